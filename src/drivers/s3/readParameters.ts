import type { S3ObjectParameters } from "./S3StorageOptions";

/** What GetObject and HeadObject take from an object's parameters. */
export interface S3ReadParameters {
  SSECustomerAlgorithm?: string;
  SSECustomerKey?: string;
  SSECustomerKeyMD5?: string;
  RequestPayer?: S3ObjectParameters["RequestPayer"];
  ExpectedBucketOwner?: string;
}

/**
 * The object parameters a read of the object must repeat (django-storages sends those of boto3's
 * `ALLOWED_DOWNLOAD_ARGS` that PutObject also takes): the customer key of an SSE-C object, without
 * which S3 answers 400, `RequestPayer` for a requester-pays bucket, and `ExpectedBucketOwner`.
 * `undefined` when there is none, the usual case, so a read builds no extra object.
 */
export function readParameters(params: S3ObjectParameters): S3ReadParameters | undefined {
  const { SSECustomerAlgorithm, SSECustomerKey, SSECustomerKeyMD5, RequestPayer, ExpectedBucketOwner } = params;
  if (
    SSECustomerAlgorithm === undefined &&
    SSECustomerKey === undefined &&
    SSECustomerKeyMD5 === undefined &&
    RequestPayer === undefined &&
    ExpectedBucketOwner === undefined
  )
    return undefined;
  return { SSECustomerAlgorithm, SSECustomerKey, SSECustomerKeyMD5, RequestPayer, ExpectedBucketOwner };
}
