import { explainS3Failure } from "../../src/drivers/s3/explainS3Failure";
import { resolveS3Options } from "../../src/drivers/s3/resolveS3Options";

const options = resolveS3Options({ bucketName: "media-bucket", regionName: "eu-west-1" });
const local = resolveS3Options({ bucketName: "media-bucket", endpointUrl: "https://minio.internal:9000" });

/** An SDK-shaped error: `name` is S3's error code, `$metadata` the HTTP status. */
function s3Error(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("explainS3Failure", () => {
  it.each([
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"],
    ["CERT_HAS_EXPIRED", "certificate has expired"],
  ])("points an untrusted certificate (%s) at verify and AWS_S3_VERIFY", (code, message) => {
    const advice = explainS3Failure(nodeError(code, message), "save", local);
    expect(advice).toBe(
      "The certificate of https://minio.internal:9000 is not trusted. If the server uses a private CA, give its " +
        'PEM bundle as verify: "/path/ca.pem" (AWS_S3_VERIFY); verify: false turns the check off, for tests only.',
    );
  });

  it("recognises the certificate failure by its message when another realm dropped the code", () => {
    const wrapped = new Error("AWS SDK error wrapper for Error: self-signed certificate in certificate chain");
    expect(explainS3Failure(wrapped, "read", local)).toContain("is not trusted");
  });

  it("says the bundle lacks the CA when verify already names one", () => {
    const withBundle = { ...local, verify: "/etc/ssl/corp.pem" };
    expect(explainS3Failure(nodeError("SELF_SIGNED_CERT_IN_CHAIN", "x"), "save", withBundle)).toBe(
      "The certificate of https://minio.internal:9000 is not signed by a CA in the bundle given as verify " +
        "(/etc/ssl/corp.pem, AWS_S3_VERIFY), which replaces Node's CAs: add the CA that signed the server's certificate to it.",
    );
  });

  it.each(["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "CredentialsProviderError"])(
    "sends refused credentials (%s) to the key settings and the profile",
    (name) => {
      const advice = explainS3Failure(s3Error(name, 403), "save", options);
      expect(advice).toContain("The credentials were refused.");
      expect(advice).toContain("AWS_S3_ACCESS_KEY_ID, AWS_S3_SECRET_ACCESS_KEY");
      expect(advice).toContain("sessionProfile (AWS_S3_SESSION_PROFILE)");
    },
  );

  it("names the bucket, where it was looked for, and the settings", () => {
    expect(explainS3Failure(s3Error("NoSuchBucket", 404), "save", options)).toBe(
      'The bucket "media-bucket" does not exist at AWS (region eu-west-1). Check bucketName ' +
        "(AWS_STORAGE_BUCKET_NAME) and endpointUrl (AWS_S3_ENDPOINT_URL), or create the bucket.",
    );
  });

  it.each([
    ["PermanentRedirect", 301],
    ["AuthorizationHeaderMalformed", 400],
  ])("sends a wrong region (%s) to regionName", (name, status) => {
    expect(explainS3Failure(s3Error(name, status), "read", options)).toBe(
      'The bucket "media-bucket" is in another region than eu-west-1: set regionName (AWS_S3_REGION_NAME) to the ' +
        "bucket's region.",
    );
  });

  it("blames the clock for RequestTimeTooSkewed", () => {
    expect(explainS3Failure(s3Error("RequestTimeTooSkewed", 403), "save", options)).toContain("clock");
  });

  it.each(["ECONNREFUSED", "ENOTFOUND"])("sends an endpoint nothing answers at (%s) to endpointUrl", (code) => {
    expect(explainS3Failure(nodeError(code, "connect failed"), "stat", local)).toBe(
      "Nothing answered at https://minio.internal:9000. Check endpointUrl (AWS_S3_ENDPOINT_URL), that the server " +
        "runs, and proxies (AWS_S3_PROXIES) if the network needs one.",
    );
  });

  it("recognises an unreachable endpoint by its message when another realm dropped the code", () => {
    const wrapped = new Error("AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9000");
    expect(explainS3Failure(wrapped, "read", local)).toContain("Nothing answered at https://minio.internal:9000.");
  });

  it.each([
    ["save", "s3:PutObject", "."],
    ["delete", "s3:DeleteObject", "."],
    ["list", "s3:ListBucket", "."],
    ["read", "s3:GetObject", "; S3 also answers 403 for a missing object when they lack s3:ListBucket."],
    ["exists", "s3:GetObject", "; S3 also answers 403 for a missing object when they lack s3:ListBucket."],
  ] as const)("names the IAM action a denied %s needs", (operation, action, end) => {
    expect(explainS3Failure(s3Error("AccessDenied", 403), operation, options)).toBe(
      `The credentials need ${action} on bucket "media-bucket" (README, "IAM policy")${end}`,
    );
  });

  it("has nothing to add to other failures", () => {
    expect(explainS3Failure(s3Error("InternalError", 500), "save", options)).toBeNull();
    expect(explainS3Failure(new Error("socket hang up"), "read", options)).toBeNull();
    expect(explainS3Failure(undefined, "read", options)).toBeNull();
    expect(explainS3Failure("a string", "read", options)).toBeNull();
  });
});
