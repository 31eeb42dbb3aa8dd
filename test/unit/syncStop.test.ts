import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { syncStop } from "../../src/storage/syncStop";

/** An SDK error: S3's code in `name`, with the HTTP status S3 answers it with. */
function s3Error(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

const where = { storage: "media", bucket: "b", prefix: "media/", examined: 7, notAttempted: 3, listingComplete: true };

describe("syncStop", () => {
  it.each([
    ["ExpiredToken", 400],
    ["InvalidAccessKeyId", 403],
    ["SignatureDoesNotMatch", 403],
    ["InvalidToken", 400],
  ])("stops the run when the listing refuses the credentials with %s, saying what to check", (name, status) => {
    const cause = s3Error(name, status, "refused");
    const stop = syncStop({ during: "listing", error: cause }, where);
    expect(stop).toBeInstanceOf(StorageConfigError);
    expect(stop?.message).toContain(`the credentials were refused (${name}: refused)`);
    expect(stop?.message).toContain("securityToken");
    expect(stop?.message).toContain("sync-meta stopped after 7 objects");
    expect(stop?.message).toContain("3 listed objects were not attempted");
    expect(stop?.cause).toBe(cause);
    expect(stop?.storage).toBe("media");
  });

  it("stops the run when the bucket may no longer be listed, naming the permissions", () => {
    const stop = syncStop({ during: "listing", error: s3Error("AccessDenied", 403, "Access Denied") }, where);
    expect(stop?.message).toContain('s3:ListBucket on arn:aws:s3:::b (prefix "media/")');
    expect(stop?.message).toContain("s3:GetObject and s3:PutObject");
  });

  it("stops the run when the bucket is gone, and says the listing had not finished", () => {
    const stop = syncStop(
      { during: "listing", error: s3Error("NoSuchBucket", 404) },
      { ...where, listingComplete: false },
    );
    expect(stop?.message).toContain('bucket "b" no longer exists');
    expect(stop?.message).toContain("3 listed objects were not attempted, and the listing had not finished");
  });

  it("stops the run for any failure of the credential provider, and names it", () => {
    const cause = new Error("token refresh failed");
    const stop = syncStop({ during: "credentials", error: cause }, where);
    expect(stop?.message).toContain("the credential provider failed (Error: token refresh failed)");
    expect(stop?.cause).toBe(cause);
  });

  it.each([
    ["a server error", s3Error("InternalError", 500)],
    ["a lost connection", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })],
    ["a slow-down", s3Error("SlowDown", 503)],
  ])("lets the run go on when the listing fails with %s", (_what, error) => {
    expect(syncStop({ during: "listing", error }, where)).toBeNull();
  });
});
