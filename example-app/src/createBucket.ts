import { CreateBucketCommand, HeadBucketCommand, PutBucketCorsCommand } from "@aws-sdk/client-s3";
import { S3Storage, storages } from "typeorm-storages";

/**
 * Creates `bucket` (`AWS_STORAGE_BUCKET_NAME`) with the `default` storage's client when it does not
 * exist yet (`CREATE_BUCKET=1`, and always with the embedded server), and opens the bucket it created
 * to direct uploads from `origins`, the app's own (CORS: PUT with any header); from any site when the
 * app's origin is not known yet (`PORT=0`). A bucket that exists keeps its CORS rules: they are
 * yours (localstack-init.sh's, your site's). Public media still needs a bucket policy or
 * `AWS_DEFAULT_ACL=public-read` to be readable by browsers on a real S3; see the README. Throws when
 * the storages are not on S3 or the server refuses.
 */
export async function createBucket(bucket: string, origins: readonly string[] | null): Promise<void> {
  const storage = storages.get("default");
  if (!(storage instanceof S3Storage)) throw new Error("CREATE_BUCKET=1 needs S3 storages (USE_S3=true).");
  const exists = await storage.client.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
  if (exists) return;
  await storage.client.send(new CreateBucketCommand({ Bucket: bucket }));
  // Direct uploads: browsers PUT to the bucket from the app's pages, so the bucket must answer their
  // CORS preflight for the app's origin.
  await storage.client.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: origins && origins.length > 0 ? [...origins] : ["*"],
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
