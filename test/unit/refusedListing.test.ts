import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import { refusedListing } from "../../src/storage/refusedListing";

/** What `Storage.listAll` throws for an SDK-shaped error (`name` is S3's code, `$metadata` the status). */
function listError(name: string, status: number, operation: "list" | "read" = "list"): StorageOperationError {
  const cause = Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  return new StorageOperationError(operation, `Could not list on storage "staticfiles": ${name}.`, {
    key: "",
    storage: "staticfiles",
    cause,
  });
}

describe("refusedListing", () => {
  it.each([
    ["NoSuchBucket", 404],
    ["AccessDenied", 403],
    ["Forbidden", 403],
    ["InvalidAccessKeyId", 403],
    ["SignatureDoesNotMatch", 403],
    ["CredentialsProviderError", 0],
  ])(
    "makes a listing refused with %s a StorageConfigError, keeping the message and the backend's error",
    (name, status) => {
      const error = listError(name, status);
      const refused = refusedListing(error);
      expect(refused).toBeInstanceOf(StorageConfigError);
      expect(refused).toMatchObject({ message: error.message, storage: "staticfiles", key: "", cause: error.cause });
    },
  );

  it("leaves other failures, and failures of other operations, to the caller", () => {
    expect(refusedListing(listError("InternalError", 500))).toBeNull();
    expect(refusedListing(listError("SlowDown", 503))).toBeNull();
    expect(refusedListing(listError("AccessDenied", 403, "read"))).toBeNull();
    expect(refusedListing(new Error("ECONNRESET"))).toBeNull();
  });
});
