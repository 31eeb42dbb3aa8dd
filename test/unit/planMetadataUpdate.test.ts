import { planMetadataUpdate } from "../../src/drivers/s3/planMetadataUpdate";

const safe = { allowUnsafeInline: false };

describe("planMetadataUpdate", () => {
  it("keeps the storage class and encryption the settings do not set, so a copy does not reset them", () => {
    const head = {
      ContentType: "video/mp4",
      StorageClass: "STANDARD_IA",
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd",
      BucketKeyEnabled: true,
    } as const;
    const plan = planMetadataUpdate("v.mp4", head, { CacheControl: "public, max-age=60" }, safe);
    expect(plan.headers).toEqual({
      CacheControl: "public, max-age=60",
      ContentType: "video/mp4",
      StorageClass: "STANDARD_IA",
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd",
      BucketKeyEnabled: true,
    });
    expect(plan.changes).toEqual([{ header: "Cache-Control", from: null, to: "public, max-age=60" }]);
  });

  it("takes a KMS key id, key/id or ARN as the key HEAD reports as an ARN", () => {
    const head = {
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd",
    } as const;
    for (const id of ["1234abcd", "key/1234abcd", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"]) {
      expect(planMetadataUpdate("a", head, { ServerSideEncryption: "aws:kms", SSEKMSKeyId: id }, safe).changes).toEqual(
        [],
      );
    }
    expect(
      planMetadataUpdate("a", head, { ServerSideEncryption: "aws:kms", SSEKMSKeyId: "alias/media" }, safe).changes,
    ).toEqual([{ header: "x-amz-server-side-encryption-aws-kms-key-id", from: head.SSEKMSKeyId, to: "alias/media" }]);
  });

  it("treats a missing storage class as STANDARD, and metadata names case- and _/- insensitively", () => {
    const head = { Metadata: { "uncompressed-size": "10", owner: "x" }, ContentEncoding: "gzip" };
    const plan = planMetadataUpdate("a.css", head, { StorageClass: "STANDARD", Metadata: { Owner: "x" } }, safe);
    expect(plan.changes).toEqual([]);
    expect(plan.headers.Metadata).toEqual({ Owner: "x", "uncompressed-size": "10" });
  });

  it("drops the original size of an object that is no longer gzipped", () => {
    const plan = planMetadataUpdate("a.css", { Metadata: { uncompressed_size: "10" } }, {}, safe);
    expect(plan.headers.Metadata).toBeUndefined();
    expect(plan.changes).toEqual([{ header: "x-amz-meta-uncompressed-size", from: "10", to: null }]);
  });

  it("reports write-only headers as changes HEAD cannot confirm, and leaves tags and body headers out", () => {
    const plan = planMetadataUpdate(
      "a.txt",
      { ContentType: "text/plain" },
      {
        ACL: "public-read",
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
        Tagging: "a=b",
        ContentMD5: "x",
      },
      safe,
    );
    expect(plan.changes).toEqual([
      { header: "x-amz-acl", from: undefined, to: "public-read" },
      { header: "x-amz-grant-read", from: undefined, to: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
    ]);
    expect(Object.keys(plan.headers).sort()).toEqual(["ACL", "ContentType", "GrantRead"]);
  });

  it("guesses the type from the name when HEAD has none, for the unsafe-inline rule", () => {
    expect(planMetadataUpdate("page.html", {}, { ContentDisposition: "inline" }, safe).headers.ContentDisposition).toBe(
      "attachment",
    );
    expect(
      planMetadataUpdate("page.html", {}, { ContentDisposition: "inline" }, { allowUnsafeInline: true }).headers
        .ContentDisposition,
    ).toBe("inline");
  });
});
