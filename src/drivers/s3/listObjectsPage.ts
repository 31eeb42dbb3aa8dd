import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import { awsSdk } from "./awsSdk";

/** S3's `encoding-type=url` is form encoding: a space comes as "+", a plus as "%2B". */
function decode(value: string | undefined): string | undefined {
  return value === undefined ? undefined : decodeURIComponent(value.replace(/\+/g, " "));
}

/**
 * One ListObjectsV2 page, asked for with `EncodingType: "url"` and decoded, as botocore does: in plain
 * XML 1.0 a carriage return in a key comes back as a line feed and other control characters cannot be
 * sent at all, so such keys would be listed under names that do not exist. A server that ignores the
 * parameter (s3rver) answers without `EncodingType`, and its page is returned as it is.
 */
export async function listObjectsPage(
  client: S3Client,
  input: Omit<ListObjectsV2CommandInput, "EncodingType">,
): Promise<ListObjectsV2CommandOutput> {
  const page = await client.send(new awsSdk.clientS3.ListObjectsV2Command({ ...input, EncodingType: "url" }));
  if (page.EncodingType !== "url") return page;
  return {
    ...page,
    Prefix: decode(page.Prefix),
    Delimiter: decode(page.Delimiter),
    StartAfter: decode(page.StartAfter),
    Contents: page.Contents?.map((object) => ({ ...object, Key: decode(object.Key) })),
    CommonPrefixes: page.CommonPrefixes?.map((common) => ({ ...common, Prefix: decode(common.Prefix) })),
  };
}
