import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { FileSystemStorage, storages } from "typeorm-storages";
import { libStorage, rawClient } from "../clients";
import type { FigureGroup, Measurement, TaskContext } from "../figure";
import { countRequests, type RequestCounter } from "../support/requestCounter";
import { type LoopResult, loopAsync, loopSync } from "../support/timeBoxed";
import { advantageAtLeast, libAtMost } from "../targets";
import { FileRow, sampleKey } from "./benchEntities";

const KEYS = Array.from({ length: 1000 }, (_, i) => sampleKey(i));
const SAFE_PATH = /^[A-Za-z0-9\-_.~/]*$/;

/** What a hand-rolled public URL does: one regex test and one concatenation, encoding only when needed. */
function encodePath(key: string, encode: (segment: string) => string): string {
  return SAFE_PATH.test(key) ? key : key.split("/").map(encode).join("/");
}

const s3Encode = (segment: string) =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** µs per URL of a loop, plus the requests its clients sent per URL (none expected). */
function perUrl(run: LoopResult, counter: RequestCounter | null): Measurement {
  const m: Measurement = { value: (run.seconds * 1e6) / run.calls };
  if (counter) m.requestsPerOp = counter.count / run.calls;
  return m;
}

/** Runs `fn` for a fifth of the time to warm up, then for `seconds`. */
function timeSync(seconds: number, fn: (i: number) => string): LoopResult {
  loopSync(Math.max(0.02, seconds / 5), fn);
  return loopSync(seconds, fn);
}

async function measureLib(task: TaskContext): Promise<Record<string, Measurement>> {
  const { target, config } = task;
  const signed = libStorage(target);
  const publicS3 = libStorage(target, { querystringAuth: false });
  const local = new FileSystemStorage({ location: mkdtempSync(path.join(os.tmpdir(), "bench-")), baseUrl: "/media/" });
  const counters = [countRequests(signed.client), countRequests(publicS3.client)];
  await signed.ready();
  storages.configure({ media: publicS3, private: signed });
  const rows = KEYS.map((key) => Object.assign(new FileRow(), { attachment: key }));
  const n = KEYS.length;
  const results = {
    "url.signed": perUrl(
      timeSync(config.urlSeconds, (i) => signed.url(KEYS[i % n])),
      counters[0],
    ),
    "url.public.s3": perUrl(
      timeSync(config.urlSeconds, (i) => publicS3.url(KEYS[i % n])),
      counters[1],
    ),
    "url.public.field": perUrl(
      timeSync(config.urlSeconds, (i) => rows[i % n].attachment.url),
      counters[1],
    ),
    "url.public.local": perUrl(
      timeSync(config.urlSeconds, (i) => local.url(KEYS[i % n])),
      null,
    ),
  };
  await storages.close();
  return results;
}

async function measureRaw(task: TaskContext): Promise<Record<string, Measurement>> {
  const { target, config } = task;
  const client = rawClient(target);
  const counter = countRequests(client);
  const n = KEYS.length;
  const presign = (i: number) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: target.bucket, Key: KEYS[i % n] }), { expiresIn: 3600 });
  await loopAsync(Math.max(0.02, config.urlSeconds / 5), presign);
  const signed = perUrl(await loopAsync(config.urlSeconds, presign), counter);
  const base = `${target.endpoint}/${target.bucket}/`;
  const s3 = (i: number) => base + encodePath(KEYS[i % n], s3Encode);
  const local = (i: number) => `/media/${encodePath(KEYS[i % n], encodeURIComponent)}`;
  const results = {
    "url.signed": signed,
    "url.public.s3": perUrl(timeSync(config.urlSeconds, s3), counter),
    "url.public.field": perUrl(timeSync(config.urlSeconds, s3), counter),
    "url.public.local": perUrl(timeSync(config.urlSeconds, local), null),
  };
  client.destroy();
  return results;
}

const publicTarget = libAtMost(0.5, "≤ 0.5 µs");

/** URLs: pure client CPU, no request. 1,000 realistic keys, one in ten with a character to escape. */
export const urlGroup: FigureGroup = {
  name: "urls",
  phases: ["measure"],
  rounds: (config) => config.rounds,
  figures: [
    {
      id: "url.signed",
      label: "presigned URL (S3)",
      unit: "µs",
      better: "lower",
      lib: "S3Storage.url(key), querystringAuth",
      raw: "await getSignedUrl(client, new GetObjectCommand(…))",
      target: advantageAtLeast(60, "≥ 60×"),
    },
    {
      id: "url.public.s3",
      label: "public URL (S3)",
      unit: "µs",
      better: "lower",
      lib: "S3Storage.url(key), querystringAuth: false",
      raw: "string building (regex test + concatenation)",
      target: publicTarget,
    },
    {
      id: "url.public.field",
      label: "public URL via entity field",
      unit: "µs",
      better: "lower",
      lib: "entity.attachment.url (FieldFile, registry lookup)",
      raw: "string building (regex test + concatenation)",
      target: publicTarget,
    },
    {
      id: "url.public.local",
      label: "public URL (local disk)",
      unit: "µs",
      better: "lower",
      lib: "FileSystemStorage.url(key)",
      raw: "string building (regex test + concatenation)",
      target: publicTarget,
    },
  ],
  measure: (_phase, task) => (task.path === "lib" ? measureLib(task) : measureRaw(task)),
};
