import type { S3ClientConfig } from "@aws-sdk/client-s3";
import type { ResolvedS3Options } from "./S3StorageOptions";

/**
 * Whether requests and URLs put the bucket in the path: `addressingStyle: "path"`, or `"auto"` with an
 * `endpointUrl` (unless `clientConfig.forcePathStyle` says otherwise), as botocore decides for
 * django-storages and django-s3-storage: with an `endpoint_url`, only `"virtual"` gives bucket host
 * names, since S3-compatible servers (MinIO or LocalStack at `http://minio:9000`) rarely resolve
 * bucket subdomains. The SDK alone would try `http://bucket.minio:9000` there. Undefined leaves the
 * SDK's own choice (AWS endpoints on `"auto"`). Throws nothing.
 */
export function usesPathStyle(
  options: Pick<ResolvedS3Options, "addressingStyle" | "endpointUrl">,
  given: Pick<S3ClientConfig, "forcePathStyle"> = {},
): boolean | undefined {
  if (options.addressingStyle !== "auto") return options.addressingStyle === "path";
  if (options.endpointUrl !== undefined && given.forcePathStyle === undefined) return true;
  return given.forcePathStyle;
}
