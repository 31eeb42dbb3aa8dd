import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { libStorage, rawClient, withRawClient } from "../clients";
import type { BenchConfig } from "../config";
import type { FigureGroup, GroupContext, Measurement, TaskContext } from "../figure";
import { deletePrefix } from "../support/deletePrefix";
import { forEachConcurrent } from "../support/forEachConcurrent";
import { meter, perOp } from "../support/meter";
import { countRequests } from "../support/requestCounter";
import { ioTarget } from "../targets";

const PREFIX = "list";

/** Puts the keys to list, once per run (not timed). */
async function seed({ target, config }: GroupContext): Promise<Record<string, unknown>> {
  await withRawClient(target, (client) =>
    forEachConcurrent(config.listKeys, 8, (i) =>
      client.send(new PutObjectCommand({ Bucket: target.bucket, Key: `${PREFIX}/k${i}.txt`, Body: "x" })),
    ),
  );
  return {};
}

/** Lists the prefix `listings` times after one warm-up listing; seconds per listing. */
async function measure(task: TaskContext): Promise<Record<string, Measurement>> {
  const { target, config } = task;
  const listings = config.quick ? 1 : 3;
  let list: () => Promise<number>;
  let close: () => Promise<void>;
  let counter: ReturnType<typeof countRequests>;
  if (task.path === "lib") {
    const storage = libStorage(target);
    counter = countRequests(storage.client);
    list = async () => (await storage.listdir(PREFIX)).files.length;
    close = () => storage.close();
  } else {
    const client = rawClient(target);
    counter = countRequests(client);
    list = async () => {
      let files = 0;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: target.bucket,
            Prefix: `${PREFIX}/`,
            Delimiter: "/",
            ContinuationToken: token,
          }),
        );
        files += page.Contents?.length ?? 0;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return files;
    };
    close = async () => client.destroy();
  }
  const check = (files: number) => {
    if (files !== config.listKeys) throw new Error(`listed ${files} of ${config.listKeys} keys`);
  };
  check(await list());
  const run = await meter(
    async () => {
      for (let i = 0; i < listings; i++) check(await list());
    },
    counter,
    target.serverPid,
  );
  await close();
  return { listdir: perOp(run.seconds / listings, run, listings) };
}

/** Listing one prefix of many keys: `listdir` against paginated ListObjectsV2 with the same delimiter. */
export const listingGroup = (config: BenchConfig): FigureGroup => ({
  name: "listing",
  phases: ["measure"],
  rounds: () => config.rounds,
  figures: [
    {
      id: "listdir",
      label: `listdir of ${config.listKeys.toLocaleString("en")} keys`,
      unit: "s",
      better: "lower",
      lib: "storage.listdir(prefix)",
      raw: "ListObjectsV2 pages (Delimiter /)",
      target: ioTarget,
    },
  ],
  beforeAll: seed,
  afterAll: async ({ target }) => deletePrefix(target, `${PREFIX}/`),
  measure: (_phase, task) => measure(task),
});
