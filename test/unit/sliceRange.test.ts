import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { contentRangeStart, sliceRange } from "../../src/drivers/s3/sliceRange";

async function sliced(pieces: string[], range: { start: number; end?: number }, offset?: number): Promise<string> {
  let out = "";
  await pipeline(Readable.from(pieces.map((p) => Buffer.from(p))), sliceRange(range, offset), async (source) => {
    for await (const chunk of source) out += String(chunk);
  });
  return out;
}

describe("sliceRange and contentRangeStart (a ranged GET answered with more than asked)", () => {
  it("reads where the body begins: the Content-Range start, 0 for a whole-object 200, null when unreadable", () => {
    expect(contentRangeStart("bytes 0-9/10")).toBe(0);
    expect(contentRangeStart("bytes 4-9/*")).toBe(4);
    expect(contentRangeStart(undefined)).toBe(0);
    expect(contentRangeStart("items 0-1/2")).toBeNull();
  });

  it("cuts the inclusive range out of pieces counted from the body's start", async () => {
    expect(await sliced(["0123", "4567", "89"], { start: 0, end: 0 })).toBe("0");
    expect(await sliced(["0123", "4567", "89"], { start: 3, end: 6 })).toBe("3456");
    expect(await sliced(["0123", "4567", "89"], { start: 8 })).toBe("89");
    // a body that begins at byte 4 of the object
    expect(await sliced(["4567", "89"], { start: 5, end: 8 }, 4)).toBe("5678");
    expect(await sliced(["0123"], { start: 10, end: 20 })).toBe("");
  });
});
