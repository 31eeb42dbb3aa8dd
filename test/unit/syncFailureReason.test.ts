import { syncFailureReason } from "../../src/storage/syncFailureReason";

/** An SDK error: S3's code in `name`; a HEAD's error has no body, so the SDK names it after the status. */
function s3Error(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

describe("syncFailureReason", () => {
  it.each([
    ["AccessDenied from CopyObject", s3Error("AccessDenied", 403, "Access Denied")],
    ["a HEAD refused (403, no error code)", s3Error("403", 403, "UnknownError")],
  ])("names the permissions sync-meta needs for %s", (_, error) => {
    const reason = syncFailureReason(error, "bucket");
    expect(reason).toContain("s3:GetObject and s3:PutObject");
  });

  it.each(["ExpiredToken", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"])(
    "says the credentials were refused, and what to check, for %s",
    (name) => {
      const reason = syncFailureReason(s3Error(name, name === "ExpiredToken" ? 400 : 403, "refused"), "bucket");
      expect(reason).toMatch(/^\w+: refused \(the credentials were refused/);
      expect(reason).toContain("AWS_S3_ACCESS_KEY_ID");
    },
  );

  it("says an archived object must be restored, though S3 answers InvalidObjectState with a 403", () => {
    const reason = syncFailureReason(s3Error("InvalidObjectState", 403, "archived"), "bucket");
    expect(reason).toContain("restore it");
  });

  it("says an object changed for a 412 of any name", () => {
    expect(syncFailureReason(s3Error("412", 412, "UnknownError"), "bucket")).toContain("changed between HEAD");
  });
});
