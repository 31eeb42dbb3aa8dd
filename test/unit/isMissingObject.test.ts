import { isMissingObject } from "../../src/drivers/s3/isMissingObject";

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe("isMissingObject", () => {
  it.each([
    ["a HEAD answered 404 (the SDK names it NotFound)", s3Error("NotFound", 404)],
    ["NoSuchKey, from a copy of a deleted source", s3Error("NoSuchKey", 404)],
    ["a 404 without an error code", s3Error("404", 404)],
  ])("takes %s for an object deleted meanwhile", (_what, error) => {
    expect(isMissingObject(error)).toBe(true);
  });

  it.each([
    ["NoSuchUpload: the multipart copy's upload was aborted, the object is still there", s3Error("NoSuchUpload", 404)],
    ["NoSuchBucket", s3Error("NoSuchBucket", 404)],
    ["NoSuchVersion", s3Error("NoSuchVersion", 404)],
    ["a 403", s3Error("AccessDenied", 403)],
    ["an error without a response", new Error("socket hang up")],
  ])("does not take %s for a missing object", (_what, error) => {
    expect(isMissingObject(error)).toBe(false);
  });
});
