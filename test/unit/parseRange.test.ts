import { ifRangeMatches, isNotModified, isPreconditionFailed, toEntityTag } from "../../src/http/conditionalRequest";
import { parseRange } from "../../src/http/parseRange";

describe("parseRange", () => {
  it("reads first-last, open-ended and suffix ranges, clamped to the file", () => {
    expect(parseRange("bytes=0-9", 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange("bytes=90-", 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange("bytes=90-500", 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange("bytes=-10", 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange("bytes=-500", 100)).toEqual({ start: 0, end: 99 });
  });

  it("reports ranges that start past the end as unsatisfiable", () => {
    expect(parseRange("bytes=100-", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
  });

  it("sends an empty file whole for a non-zero suffix range (RFC 9110 §14.1.1)", () => {
    expect(parseRange("bytes=-1", 0)).toBeNull();
    expect(parseRange("bytes=-0", 0)).toBe("unsatisfiable");
  });

  it("ignores what it does not serve: no header, other units, several ranges, malformed ones", () => {
    for (const header of [undefined, "", "items=0-1", "bytes=0-1,5-6", "bytes=5-2", "bytes=-", "bytes=a-b"]) {
      expect(parseRange(header, 100)).toBeNull();
    }
  });
});

describe("conditional requests", () => {
  const modified = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));

  it("quotes a bare ETag and keeps entity-tags as they are", () => {
    expect(toEntityTag("abc")).toBe('"abc"');
    expect(toEntityTag('"abc"')).toBe('"abc"');
    expect(toEntityTag('W/"1-2"')).toBe('W/"1-2"');
    expect(toEntityTag(null)).toBeNull();
  });

  it("matches If-None-Match weakly, in a list and for *", () => {
    expect(isNotModified({ "if-none-match": '"1-2"' }, 'W/"1-2"', modified)).toBe(true);
    expect(isNotModified({ "if-none-match": '"x", W/"1-2"' }, 'W/"1-2"', modified)).toBe(true);
    expect(isNotModified({ "if-none-match": "*" }, 'W/"1-2"', modified)).toBe(true);
    expect(isNotModified({ "if-none-match": '"other"' }, 'W/"1-2"', modified)).toBe(false);
  });

  it("uses If-Modified-Since only without If-None-Match, at one-second precision", () => {
    const since = modified.toUTCString();
    expect(isNotModified({ "if-modified-since": since }, null, modified)).toBe(true);
    expect(
      isNotModified({ "if-modified-since": new Date(modified.getTime() - 1000).toUTCString() }, null, modified),
    ).toBe(false);
    expect(isNotModified({ "if-none-match": '"x"', "if-modified-since": since }, 'W/"1-2"', modified)).toBe(false);
    expect(isNotModified({ "if-modified-since": "yesterday" }, null, modified)).toBe(false);
  });

  it("honours If-Range only for a strong tag or the exact Last-Modified second", () => {
    expect(ifRangeMatches({}, 'W/"1-2"', modified)).toBe(true);
    expect(ifRangeMatches({ "if-range": 'W/"1-2"' }, 'W/"1-2"', modified)).toBe(false);
    expect(ifRangeMatches({ "if-range": '"abc"' }, '"abc"', modified)).toBe(true);
    expect(ifRangeMatches({ "if-range": modified.toUTCString() }, null, modified)).toBe(true);
    expect(ifRangeMatches({ "if-range": new Date(0).toUTCString() }, null, modified)).toBe(false);
  });

  it("passes If-Match for * or a strong match in a list, so a weak ETag fails any list (RFC 9110 §13.1.1)", () => {
    expect(isPreconditionFailed({}, 'W/"1-2"', modified)).toBe(false);
    expect(isPreconditionFailed({ "if-match": "*" }, 'W/"1-2"', modified)).toBe(false);
    expect(isPreconditionFailed({ "if-match": '"x,y", "abc"' }, '"abc"', modified)).toBe(false);
    expect(isPreconditionFailed({ "if-match": '"x,abc"' }, '"abc"', modified)).toBe(true);
    expect(isPreconditionFailed({ "if-match": 'W/"abc"' }, '"abc"', modified)).toBe(true);
    expect(isPreconditionFailed({ "if-match": 'W/"1-2"' }, 'W/"1-2"', modified)).toBe(true);
    expect(isPreconditionFailed({ "if-match": '"1-2"' }, 'W/"1-2"', modified)).toBe(true);
    expect(isPreconditionFailed({ "if-match": '"abc"' }, null, modified)).toBe(true);
  });

  it("fails If-Unmodified-Since older than the Last-Modified second, only without If-Match (§13.1.4)", () => {
    const second = modified.toUTCString();
    const before = new Date(modified.getTime() - 1000).toUTCString();
    expect(isPreconditionFailed({ "if-unmodified-since": second }, null, modified)).toBe(false);
    expect(isPreconditionFailed({ "if-unmodified-since": before }, null, modified)).toBe(true);
    expect(isPreconditionFailed({ "if-unmodified-since": "yesterday" }, null, modified)).toBe(false);
    expect(isPreconditionFailed({ "if-match": "*", "if-unmodified-since": before }, null, modified)).toBe(false);
  });
});
