import { Readable } from "node:stream";
import { FieldFile, InMemoryStorage, validateKey } from "../../src";
import { encodeS3Path, uriEncode } from "../../src/drivers/s3/S3UrlSigner";
import { encodeKeyPath } from "../../src/http/encodeKeyPath";

// validateKey, encodeKeyPath and encodeS3Path run on every url() and storage call, and chunks() on every
// byte of a streamed read, so each has a fast path (bench/, docs/benchmarks.md). These tests hold the
// fast paths to the plain definitions they replace: for the key functions, on every string of up to
// four characters from an alphabet of the characters that matter, plus the length boundaries.

/** Every string of length 0…`max` over `alphabet`. */
function* strings(alphabet: string[], max: number): Generator<string> {
  let level = [""];
  yield "";
  for (let length = 1; length <= max; length++) {
    const next: string[] = [];
    for (const prefix of level) for (const c of alphabet) next.push(prefix + c);
    yield* next;
    level = next;
  }
}

/** The rules of validateKey, one by one, as documented. */
function isValidKey(key: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule being checked
  if (key === "" || /[\u0000-\u001f\u007f]/.test(key) || key.includes("\\")) return false;
  if (Buffer.from(key, "utf8").toString("utf8") !== key) return false; // an unpaired surrogate has no UTF-8 form
  if (key.startsWith("/") || key.endsWith("/")) return false;
  if (key.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) return false;
  return Buffer.byteLength(key, "utf8") <= 1024;
}

function accepts(key: string): boolean {
  try {
    return validateKey(key) === key;
  } catch {
    return false;
  }
}

describe("validateKey's fast path", () => {
  it("accepts exactly the keys the rule-by-rule check accepts", () => {
    // the halves of 😀 alone, and in either order, as well as the pair
    const alphabet = ["a", ".", "/", "\\", "\u0000", "\u001f", "\u007f", " ", "é", "😀", "\uD83D", "\uDE00"];
    const wrong = [...strings(alphabet, 4)].filter((key) => accepts(key) !== isValidKey(key));
    expect(wrong).toEqual([]);
  });

  it("measures long keys in UTF-8 bytes, not characters", () => {
    for (const key of ["€".repeat(341), "€".repeat(342), "😀".repeat(256), "😀".repeat(257), "a".repeat(1024)]) {
      expect(accepts(key)).toBe(isValidKey(key));
    }
    expect(accepts("a".repeat(1025))).toBe(false);
    expect(accepts("€".repeat(342))).toBe(false);
  });
});

describe("URL path encoding fast paths", () => {
  const alphabet = ["a", "/", "%", "2", "F", "!", "'", "*", " ", "é", "~", "+"];
  const keys = [...strings(alphabet, 4)];

  it("encodeKeyPath encodes every key as encodeURIComponent on each segment would", () => {
    const wrong = keys.filter((key) => encodeKeyPath(key) !== key.split("/").map(encodeURIComponent).join("/"));
    expect(wrong).toEqual([]);
  });

  it("encodeS3Path encodes every key as S3's UriEncode on each segment would", () => {
    const wrong = keys.filter((key) => encodeS3Path(key) !== key.split("/").map(uriEncode).join("/"));
    expect(wrong).toEqual([]);
  });

  it("uriEncode also escapes the characters encodeURIComponent leaves alone, except - _ . ~", () => {
    expect(uriEncode("a!b'c(d)e*f-_.~ /")).toBe("a%21b%27c%28d%29e%2Af-_.~%20%2F");
  });
});

/** A storage whose objects arrive in pieces of the given sizes, as a socket delivers them. */
class PiecewiseStorage extends InMemoryStorage {
  readonly #sizes: number[];

  constructor(sizes: number[]) {
    super();
    this.#sizes = sizes;
  }

  override async open(): Promise<Readable> {
    let offset = 0;
    return Readable.from(
      this.#sizes.map((size) => {
        const piece = Buffer.from(Array.from({ length: size }, (_, i) => (offset + i) % 251));
        offset += size;
        return piece;
      }),
    );
  }
}

describe("FieldFile.chunks", () => {
  const layouts = [[], [1], [5, 5, 5], [16, 16], [3, 40, 2, 2, 100], [64, 1, 63, 128]];

  it("yields the same bytes in chunks of chunkSize, only the last shorter, whatever the pieces", async () => {
    for (const sizes of layouts) {
      const total = sizes.reduce((a, b) => a + b, 0);
      const expected = Buffer.from(Array.from({ length: total }, (_, i) => i % 251));
      for (const chunkSize of [1, 3, 7, 16, 64, 1000]) {
        const chunks: Buffer[] = [];
        for await (const chunk of new FieldFile("x.bin", new PiecewiseStorage(sizes)).chunks(chunkSize)) {
          chunks.push(Buffer.from(chunk));
        }
        expect(Buffer.concat(chunks)).toEqual(expected);
        expect(chunks.slice(0, -1).every((c) => c.length === chunkSize)).toBe(true);
        if (chunks.length) expect(chunks[chunks.length - 1].length).toBeGreaterThan(0);
        expect(chunks[chunks.length - 1]?.length ?? 0).toBeLessThanOrEqual(chunkSize);
        expect(chunks.length).toBe(Math.ceil(total / chunkSize));
      }
    }
  });
});
