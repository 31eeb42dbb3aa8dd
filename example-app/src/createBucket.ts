import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand } from "@aws-sdk/client-s3";
import { S3Storage, storages } from "typeorm-storages";

/**
 * Creates `bucket` (`AWS_STORAGE_BUCKET_NAME`) with the `default` storage's client when it does not
 * exist yet (`CREATE_BUCKET=1`, and always with the embedded server), and opens it to direct uploads
 * from any site (CORS: PUT with any header). Public media still needs a
 * bucket policy or `AWS_DEFAULT_ACL=public-read` to be readable by browsers on a real S3; see the
 * README. Throws when the storages are not on S3 or the server refuses.
 */
export async function createBucket(bucket: string): Promise<void> {
  const storage = storages.get("default");
  if (!(storage instanceof S3Storage)) throw new Error("CREATE_BUCKET=1 needs S3 storages (USE_S3=true).");
  const exists = await storage.client.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
  if (!exists) await storage.client.send(new CreateBucketCommand({ Bucket: bucket }));
  // Direct uploads: browsers PUT to the bucket from the app's pages, so the bucket must answer their
  // CORS preflight. Any origin here, for a demo on changing ports; a real bucket lists its sites.
  await storage.client.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ["*"],
            AllowedMethods: ["PUT"],
            AllowedHeaders: ["*"],
            ExposeHeaders: ["ETag"],
            MaxAgeSeconds: 3600,
          },
        ],
      },
    }),
  );
}
