import { isMediaType, isUnsafeInline } from "../../src/content/guessContentType";

describe("content types", () => {
  it("takes one well-formed media type, with parameters, and nothing else", () => {
    for (const type of [
      "image/png",
      "text/plain; charset=utf-8",
      'text/plain;charset="utf-8"',
      "application/vnd.ms-excel",
    ])
      expect(isMediaType(type)).toBe(true);
    for (const type of ["image/png, text/html", "*/*", "image", " image/png", "image/png\r\nx-evil: 1", "a/b;c", ""])
      expect(isMediaType(type)).toBe(false);
  });

  it("sends as attachments what a browser could run or sniff: html, xml, lists and unknown types", () => {
    for (const type of [
      "text/html",
      "image/svg+xml",
      "application/xml",
      "image/png, text/html",
      "application/unknown",
      "unknown/unknown",
      // Firefox renders these as documents too (github.com/BlackFan/content-type-research, XSS.md)
      "text/rdf",
      "multipart/x-mixed-replace; boundary=x",
      'Multipart/X-Mixed-Replace;boundary="x"',
    ])
      expect([type, isUnsafeInline(type)]).toEqual([type, true]);
    for (const type of [
      "image/png",
      "application/pdf",
      "text/plain; charset=utf-8",
      "multipart/form-data",
      "text/rdfa",
    ])
      expect(isUnsafeInline(type)).toBe(false);
  });
});
