import { createSecretKey } from "node:crypto";
import { readUploadTicket, signUploadTicket, type UploadTicketClaims } from "../../src/fields/uploadTicket";

const KEY = createSecretKey(Buffer.from("upload-ticket-test-secret-32-bytes"));
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const claims: UploadTicketClaims = {
  field: "Document.attachment",
  storage: "default",
  key: "documents/2026/12/report.pdf",
  size: 1234,
  contentType: "application/pdf",
  contentEncoding: null,
  uploadId: null,
  partSize: null,
  expires: NOW / 1000 + 600,
};

describe("upload tickets", () => {
  it("round-trips the claims and is URL-safe", () => {
    const ticket = signUploadTicket(claims, KEY);
    expect(ticket).toMatch(/^ut1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(readUploadTicket(ticket, KEY, NOW)).toEqual({ ok: true, claims });
    expect(readUploadTicket(signUploadTicket({ ...claims, storage: null }, KEY), KEY, NOW)).toMatchObject({
      ok: true,
      claims: { storage: null },
    });
    const gzipped = { ...claims, contentEncoding: "gzip", uploadId: "2~abc.DEF_g-h", partSize: 5242880 };
    expect(readUploadTicket(signUploadTicket(gzipped, KEY), KEY, NOW)).toEqual({ ok: true, claims: gzipped });
  });

  it("refuses a ticket whose claims were changed, or signed with another key", () => {
    const ticket = signUploadTicket(claims, KEY);
    const [prefix, body, mac] = ticket.split(".");
    const forged = Buffer.from(
      JSON.stringify([
        "Document.attachment",
        "default",
        "users/1/secret.pdf",
        1234,
        "application/pdf",
        null,
        claims.expires,
      ]),
    ).toString("base64url");
    expect(readUploadTicket(`${prefix}.${forged}.${mac}`, KEY, NOW)).toEqual({ ok: false, reason: "invalid" });
    const other = createSecretKey(Buffer.from("another-upload-ticket-secret-32-b"));
    expect(readUploadTicket(ticket, other, NOW)).toEqual({ ok: false, reason: "invalid" });
    // the other spellings of the signature's last character
    const last = mac.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)];
    expect(readUploadTicket(`${prefix}.${body}.${mac.slice(0, -1)}${sibling}`, KEY, NOW)).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  it("refuses anything that is not a ticket, without throwing", () => {
    for (const junk of [undefined, null, 42, {}, "", "ut1.", "ut1..", "ut1.e30.x", "nope", `ut1.${"a".repeat(20000)}`])
      expect(readUploadTicket(junk, KEY, NOW)).toEqual({ ok: false, reason: "invalid" });
  });

  it("says when a ticket has expired", () => {
    const ticket = signUploadTicket(claims, KEY);
    expect(readUploadTicket(ticket, KEY, NOW + 600_000)).toEqual({ ok: false, reason: "expired" });
    expect(readUploadTicket(ticket, KEY, NOW + 599_000)).toMatchObject({ ok: true });
  });
});
