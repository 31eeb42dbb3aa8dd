import { contentDisposition } from "../../src/http/contentDisposition";
import { UrlSigner } from "../../src/http/UrlSigner";

const SECRET = "0123456789abcdef0123456789abcdef";
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const clock = (ms: number) => () => ms;

/** Replaces (or adds) one query parameter, keeping the others as they were. */
function withParam(query: string, name: string, value: string): string {
  const params = new URLSearchParams(query);
  params.set(name, value);
  return params.toString();
}

describe("UrlSigner", () => {
  const signer = new UrlSigner(SECRET, { now: clock(NOW) });
  const path = "/private/users/7/contract%20final.pdf";

  it("signs a path with an expiry in unix seconds and a base64url HMAC-SHA256", () => {
    const query = signer.sign(path, 600);
    const params = new URLSearchParams(query);
    expect([...params.keys()]).toEqual(["expires", "signature"]);
    expect(params.get("expires")).toBe(String(NOW / 1000 + 600));
    expect(params.get("signature")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("accepts its own signature and returns the expiry", () => {
    const query = signer.sign(path, 600);
    expect(signer.verify(path, query)).toEqual({
      valid: true,
      expires: NOW / 1000 + 600,
      contentDisposition: null,
      contentType: null,
      upload: null,
    });
  });

  it("is deterministic for the same path, expiry and clock, and differs for another secret", () => {
    const other = new UrlSigner(`${SECRET}x`, { now: clock(NOW) });
    expect(signer.sign(path, 600)).toBe(signer.sign(path, 600));
    expect(other.sign(path, 600)).not.toBe(signer.sign(path, 600));
    expect(other.verify(path, signer.sign(path, 600))).toEqual({ valid: false, reason: "invalid" });
  });

  it("signs download and content-type overrides and returns them when valid", () => {
    const query = signer.sign(path, 60, { download: "Vertrag März.pdf", contentType: "application/pdf" });
    const params = new URLSearchParams(query);
    expect(params.get("response-content-disposition")).toBe(
      "attachment; filename=\"Vertrag M_rz.pdf\"; filename*=UTF-8''Vertrag%20M%C3%A4rz.pdf",
    );
    expect(params.get("response-content-type")).toBe("application/pdf");
    expect(signer.verify(path, query)).toMatchObject({
      valid: true,
      contentType: "application/pdf",
      contentDisposition: "attachment; filename=\"Vertrag M_rz.pdf\"; filename*=UTF-8''Vertrag%20M%C3%A4rz.pdf",
    });
  });

  it("refuses a tampered signature", () => {
    const query = signer.sign(path, 60);
    const signature = new URLSearchParams(query).get("signature") as string;
    const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    expect(signer.verify(path, withParam(query, "signature", flipped))).toEqual({ valid: false, reason: "invalid" });
    expect(signer.verify(path, withParam(query, "signature", "short"))).toEqual({ valid: false, reason: "invalid" });
  });

  it("takes a signature only as written: no padding, stray characters, standard alphabet or unused bits", () => {
    const query = signer.sign(path, 60);
    const signature = new URLSearchParams(query).get("signature") as string;
    const last = signature.at(-1) as string;
    const sibling = String.fromCharCode(last.charCodeAt(0) + 1); // same 4 high bits, one unused bit set
    const spellings = [
      `${signature}=`,
      `${signature}.`,
      `${signature} `,
      `${signature}\n`,
      signature.replace(/-/g, "+").replace(/_/g, "/"),
      signature.slice(0, -1) + sibling,
    ].filter((s) => s !== signature);
    for (const spelt of spellings)
      expect(signer.verify(path, withParam(query, "signature", spelt))).toEqual({ valid: false, reason: "invalid" });
    expect(signer.verify(path, query)).toMatchObject({ valid: true });
  });

  it("refuses another path", () => {
    const query = signer.sign(path, 60);
    expect(signer.verify("/private/users/8/contract%20final.pdf", query)).toEqual({ valid: false, reason: "invalid" });
  });

  it("refuses a changed expiry, a changed override and an added parameter", () => {
    const query = signer.sign(path, 60, { contentType: "application/pdf" });
    const later = String(NOW / 1000 + 99999);
    for (const changed of [
      withParam(query, "expires", later),
      withParam(query, "response-content-type", "text/html"),
      withParam(query, "response-content-disposition", "attachment"),
      `${query}&x=1`,
    ]) {
      expect(signer.verify(path, changed)).toEqual({ valid: false, reason: "invalid" });
    }
  });

  it("refuses a repeated parameter, even with the same value", () => {
    const query = signer.sign(path, 60);
    const expires = new URLSearchParams(query).get("expires");
    expect(signer.verify(path, `${query}&expires=${expires}`)).toEqual({ valid: false, reason: "invalid" });
    const signature = new URLSearchParams(query).get("signature");
    expect(signer.verify(path, `${query}&signature=${signature}`)).toEqual({ valid: false, reason: "invalid" });
  });

  it("reports an unsigned query as missing", () => {
    expect(signer.verify(path, "")).toEqual({ valid: false, reason: "missing" });
    expect(signer.verify(path, "expires=99999999999")).toEqual({ valid: false, reason: "missing" });
  });

  it("reports a genuine but expired signature as expired, from the moment it expires", () => {
    const query = signer.sign(path, 60);
    const atExpiry = new UrlSigner(SECRET, { now: clock(NOW + 60_000) });
    const justBefore = new UrlSigner(SECRET, { now: clock(NOW + 59_999) });
    expect(atExpiry.verify(path, query)).toEqual({ valid: false, reason: "expired" });
    expect(justBefore.verify(path, query)).toMatchObject({ valid: true });
  });

  it("counts the remaining lifetime in whole seconds, never below zero", () => {
    expect(signer.secondsUntil(NOW / 1000 + 90)).toBe(90);
    expect(signer.secondsUntil(NOW / 1000 - 5)).toBe(0);
  });

  it("refuses a non-positive expiry and a content type that is not a header value", () => {
    expect(() => signer.sign(path, 0)).toThrow(RangeError);
    expect(() => signer.sign(path, -1)).toThrow(/expiresIn must be a positive number of seconds up to .*, got -1\./);
    // an expiry past what verify() reads (15 digits) would give a URL that never works
    expect(() => signer.sign(path, Number.MAX_SAFE_INTEGER)).toThrow(RangeError);
    expect(signer.verify(path, signer.sign(path, 999 * 365 * 24 * 3600))).toMatchObject({ valid: true });
    expect(() => signer.sign(path, 60, { contentType: "text/plain\r\nSet-Cookie: a=b" })).toThrow(TypeError);
  });

  it("refuses an empty secret", () => {
    expect(() => new UrlSigner("")).toThrow("The signing secret must not be empty.");
  });
});

describe("contentDisposition", () => {
  it("gives an ASCII fallback and the exact UTF-8 name (RFC 5987)", () => {
    expect(contentDisposition("report.pdf")).toBe("attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    expect(contentDisposition("日本語.txt")).toBe(
      "attachment; filename=\"___.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt",
    );
  });

  it("keeps quotes, backslashes and line breaks out of the header", () => {
    const value = contentDisposition("a\"b\\c\r\nSet-Cookie: x=1'(*).txt");
    expect(value).toBe(
      'attachment; filename="a_b_c__Set-Cookie: x=1\'(*).txt"; ' +
        "filename*=UTF-8''a%22b%5Cc%0D%0ASet-Cookie%3A%20x%3D1%27%28%2A%29.txt",
    );
    expect(value).not.toMatch(/[\r\n]/);
  });

  it("can say inline", () => {
    expect(contentDisposition("a.png", "inline")).toBe("inline; filename=\"a.png\"; filename*=UTF-8''a.png");
  });
});

describe("UrlSigner upload URLs", () => {
  const signer = new UrlSigner(SECRET, { now: clock(NOW) });
  const path = "/media/uploads/photo%201.jpg";

  it("signs the size and the overwrite flag, and verify returns them", () => {
    const query = signer.signUpload(path, 600, { size: 1234, overwrite: false });
    expect([...new URLSearchParams(query).keys()]).toEqual(["expires", "upload-size", "signature"]);
    expect(signer.verify(path, query)).toMatchObject({ valid: true, upload: { size: 1234, overwrite: false } });
    const replacing = signer.signUpload(path, 600, { size: 0, overwrite: true });
    expect(signer.verify(path, replacing)).toMatchObject({ valid: true, upload: { size: 0, overwrite: true } });
  });

  it("refuses a changed size, an added overwrite flag, or one taken from another URL", () => {
    const query = signer.signUpload(path, 600, { size: 10, overwrite: false });
    expect(signer.verify(path, withParam(query, "upload-size", "11"))).toEqual({ valid: false, reason: "invalid" });
    expect(signer.verify(path, withParam(query, "upload-overwrite", "1"))).toEqual({ valid: false, reason: "invalid" });
    // a download URL cannot be turned into an upload URL
    const download = signer.sign(path, 600);
    expect(signer.verify(path, withParam(download, "upload-size", "10"))).toEqual({ valid: false, reason: "invalid" });
  });

  it("refuses sizes that are not byte counts", () => {
    for (const size of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2])
      expect(() => signer.signUpload(path, 600, { size, overwrite: false })).toThrow(RangeError);
    expect(() => signer.signUpload(path, 0, { size: 1, overwrite: false })).toThrow(RangeError);
  });

  it("expires like any signed URL", () => {
    const query = signer.signUpload(path, 60, { size: 1, overwrite: false });
    const later = new UrlSigner(SECRET, { now: clock(NOW + 61_000) });
    expect(later.verify(path, query)).toEqual({ valid: false, reason: "expired" });
  });
});
