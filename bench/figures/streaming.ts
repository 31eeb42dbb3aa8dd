import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { FieldFile } from "typeorm-storages";
import { libStorage, PART_SIZE, QUEUE_SIZE, rawClient, withRawClient } from "../clients";
import { type BenchConfig, sizeLabel } from "../config";
import type { FigureDefinition, FigureGroup, Measurement, TaskContext } from "../figure";
import type { S3Target } from "../s3Target";
import { deletePrefix } from "../support/deletePrefix";
import { generatedMd5, generatedStream } from "../support/generatedStream";
import { type Metered, meter, perOp } from "../support/meter";
import { peakRssMiB } from "../support/peakRss";
import { countRequests, type RequestCounter } from "../support/requestCounter";
import { ioTarget, rssTarget } from "../targets";

const MiB = 1024 * 1024;

/** The object a path's save writes in a round; both reads then read the raw path's (same bytes). */
const keyOf = (label: string, round: number, path: string) => `stream/${label}/r${round}/${path}.bin`;

/** Streams a generated file of `size` bytes (never in memory) to S3 through `path`; resolves with the run. */
async function save(task: TaskContext, size: number, key: string): Promise<Metered> {
  const { target } = task;
  const body = generatedStream(size);
  if (task.path === "lib") {
    const storage = libStorage(target);
    const run = await meter(
      async () => {
        await storage.save(key, body, { overwrite: true });
      },
      countRequests(storage.client),
      target.serverPid,
    );
    await storage.close();
    return run;
  }
  const client = rawClient(target);
  const upload = () =>
    new Upload({
      client,
      params: { Bucket: target.bucket, Key: key, Body: body, ContentType: "application/octet-stream" },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    }).done();
  const run = await meter(
    async () => {
      await upload();
    },
    countRequests(client),
    target.serverPid,
  );
  client.destroy();
  return run;
}

/** Reads the object back through `path` in chunks, counting bytes; resolves with the run. */
async function read(task: TaskContext, size: number, key: string): Promise<Metered> {
  const { target } = task;
  let bytes = 0;
  let run: Metered;
  let counter: RequestCounter;
  if (task.path === "lib") {
    const storage = libStorage(target);
    counter = countRequests(storage.client);
    const file = new FieldFile(key, storage);
    run = await meter(
      async () => {
        for await (const chunk of file.chunks()) bytes += chunk.length;
      },
      counter,
      target.serverPid,
    );
    await storage.close();
  } else {
    const client = rawClient(target);
    counter = countRequests(client);
    run = await meter(
      async () => {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
        for await (const chunk of Body as AsyncIterable<Buffer>) bytes += chunk.length;
      },
      counter,
      target.serverPid,
    );
    client.destroy();
  }
  if (bytes !== size) throw new Error(`${key}: read ${bytes} of ${size} bytes`);
  return run;
}

/** Checks the stored object's size and, where the ETag is a plain MD5 (s3rver), its checksum. */
async function verify(target: S3Target, key: string, size: number, md5: string): Promise<void> {
  const head = await withRawClient(target, (client) =>
    client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })),
  );
  const etag = (head.ETag ?? "").replace(/"/g, "");
  if (head.ContentLength !== size) throw new Error(`${key}: stored ${head.ContentLength} of ${size} bytes`);
  if (!etag.includes("-") && etag !== md5) throw new Error(`${key}: stored MD5 ${etag}, generated ${md5}`);
}

async function measure(phase: string, task: TaskContext, size: number, label: string) {
  const rssBefore = process.memoryUsage.rss() / MiB;
  const saving = phase === "save";
  const key = keyOf(label, task.round, saving ? task.path : "raw");
  const run = saving ? await save(task, size, key) : await read(task, size, key);
  // getrusage's figure too, for comparison only: on Linux it includes the orchestrator's RSS at fork
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  const rss: Measurement = { value: peakRssMiB(), extra: { rssBeforeMiB: rssBefore, maxRssMiB } };
  if (saving) await verify(task.target, key, size, task.params.md5 as string);
  return {
    [`stream.${phase}.${label}`]: perOp(size / 1e6 / run.seconds, run, 1),
    [`stream.${phase}.${label}.rss`]: rss,
  };
}

/**
 * Streaming a generated file of `size` bytes: save (library multipart vs lib-storage `Upload`, same
 * part size and queue) then read (`FieldFile.chunks()` vs GetObject's body), each path in its own
 * process so peak RSS is that path's. `smaller` is the previous size, whose RSS this one must not exceed.
 */
export function streamGroup(config: BenchConfig, size: number, smaller: number | null): FigureGroup {
  const label = sizeLabel(size);
  const smallerLabel = smaller === null ? "" : sizeLabel(smaller);
  const rss = (phase: string, lib: string, raw: string): FigureDefinition => ({
    id: `stream.${phase}.${label}.rss`,
    label: `peak RSS of that process`,
    unit: "MiB",
    better: "lower",
    lib,
    raw,
    target: rssTarget(smaller === null ? null : `stream.${phase}.${smallerLabel}.rss`, smallerLabel),
  });
  return {
    name: `stream-${label}`,
    phases: ["save", "read"],
    rounds: () => config.streamRounds,
    figures: [
      {
        id: `stream.save.${label}`,
        label: `streaming save of ${label}`,
        unit: "MB/s",
        better: "higher",
        lib: "storage.save(key, stream, { overwrite: true })",
        raw: `new Upload({ partSize: ${PART_SIZE / MiB} MiB, queueSize: ${QUEUE_SIZE} }).done()`,
        target: ioTarget,
      },
      rss("save", "storage.save", "Upload"),
      {
        id: `stream.read.${label}`,
        label: `streaming read of ${label}`,
        unit: "MB/s",
        better: "higher",
        lib: "for await (chunk of fieldFile.chunks())",
        raw: "for await (chunk of GetObject Body)",
        target: ioTarget,
      },
      rss("read", "FieldFile.chunks", "GetObject"),
    ],
    beforeAll: async () => ({ md5: generatedMd5(size) }),
    afterRound: async ({ target }, round) => deletePrefix(target, `stream/${label}/r${round}/`),
    measure: (phase, task) => measure(phase, task, size, label),
  };
}
