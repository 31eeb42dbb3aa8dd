import { DeleteObjectsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { withRawClient } from "../clients";
import type { S3Target } from "../s3Target";

/** Deletes every object under `prefix` ("" for the whole bucket), a page of 1,000 keys at a time. */
export async function deletePrefix(target: S3Target, prefix: string): Promise<void> {
  await withRawClient(target, async (client) => {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix }));
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (objects.length === 0) return;
      await client.send(new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: objects } }));
    }
  });
}
