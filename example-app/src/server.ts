import "reflect-metadata";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { storages, storagesFromEnv, usesS3 } from "typeorm-storages";
import { createApp } from "./app";
import { collectAssets } from "./collectAssets";
import { type AppConfig, defaultOrigins, EMBEDDED_BUCKET, readConfig, storageEnv } from "./config";
import { createBucket } from "./createBucket";
import { createDataSource } from "./dataSource";
import { type S3rverHandle, startS3rver } from "./embeddedS3";

/** A running example app, as `main` returns it. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/**
 * `EMBEDDED_S3=1`: starts s3rver in-process under `<DATA_DIR>/s3` and points the standard S3 variables
 * at it (they are only defaults: a bucket name or port set by the user wins).
 */
async function startEmbeddedS3(config: AppConfig, env: NodeJS.ProcessEnv): Promise<S3rverHandle> {
  const server = await startS3rver(path.join(config.dataDir, "s3"), Number(env.EMBEDDED_S3_PORT || 0));
  Object.assign(env, {
    USE_S3: "true",
    AWS_STORAGE_BUCKET_NAME: env.AWS_STORAGE_BUCKET_NAME || EMBEDDED_BUCKET,
    AWS_S3_ENDPOINT_URL: server.endpoint,
    AWS_S3_REGION_NAME: env.AWS_S3_REGION_NAME || "us-east-1",
    AWS_S3_ADDRESSING_STYLE: "path",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  });
  return server;
}

const shortPath = (p: string) =>
  path.relative(process.cwd(), p).startsWith("..") ? p : path.relative(process.cwd(), p) || ".";

function describeSetup(config: AppConfig, env: NodeJS.ProcessEnv): string {
  const media = usesS3(env)
    ? `S3 bucket "${env.AWS_STORAGE_BUCKET_NAME}" at ${env.AWS_S3_ENDPOINT_URL || "AWS"}${config.embeddedS3 ? " (embedded s3rver)" : ""}`
    : `local disk under ${shortPath(config.dataDir)}`;
  const database = config.databaseUrl ? "PostgreSQL" : `SQLite file ${shortPath(config.databasePath)}`;
  return `media: ${media}; database: ${database}`;
}

/** `listen`'s error, saying which of PORT and HOST to change. */
function listenError(config: AppConfig, error: NodeJS.ErrnoException): Error {
  if (error.code === "EADDRINUSE") {
    return new Error(
      `PORT ${config.port} is already in use on ${config.host} (another program, or the app running already): stop it, or set PORT to a free port (PORT=0 picks one).`,
      { cause: error },
    );
  }
  if (error.code === "EACCES") {
    return new Error(`PORT ${config.port} needs privileges to listen on; set PORT to 1024 or above.`, { cause: error });
  }
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN" || error.code === "EADDRNOTAVAIL") {
    return new Error(
      `HOST ${JSON.stringify(config.host)} is not an address this machine can listen on (${error.message}); ` +
        "set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for every interface).",
      { cause: error },
    );
  }
  return error;
}

/** A failed connection to `DATABASE_URL`, naming the variable and the server (never the password). */
function databaseError(databaseUrl: string, error: unknown): Error {
  let server = "a malformed URL";
  try {
    const url = new URL(databaseUrl);
    server = `${url.hostname}:${url.port || 5432}`;
  } catch {}
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `Could not connect to the PostgreSQL database at DATABASE_URL (${server}): ${reason}. ` +
      "Check that the server runs and DATABASE_URL is postgres://user:password@host:port/database.",
    { cause: error },
  );
}

/** How long stopping the app waits for requests in flight before cutting their connections. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the app from the environment and resolves once it listens; throws on bad configuration. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  const config = readConfig(env);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const s3rver = config.embeddedS3 ? await startEmbeddedS3(config, env) : null;

  storages.configure(storagesFromEnv(storageEnv(config, env)));
  if (s3rver || config.createBucket) await createBucket(env.AWS_STORAGE_BUCKET_NAME as string, config.origins);
  const { dataSource, databaseFile } = createDataSource(config);
  await dataSource.initialize().catch((error: unknown) => {
    throw config.databaseUrl ? databaseError(config.databaseUrl, error) : error;
  });
  // Resolves S3 credentials ahead, so the list page's presigned URLs are signed synchronously.
  await storages.ready();
  // Direct-upload tickets are signed with STORAGES_SIGNING_SECRET on S3 too: without it in production
  // this throws (StorageConfigError, saying what to set) instead of every direct upload failing later.
  storages.signingKey();
  const staticFiles = await collectAssets();

  const server = createApp(dataSource, config, staticFiles).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error) => reject(listenError(config, error)));
  }).catch(async (error: unknown) => {
    await dataSource.destroy();
    await s3rver?.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  // PORT=0: the app's default origins are known now, before any request is read
  config.origins ??= defaultOrigins(port);
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  console.log(`typeorm-storages example app listening on ${url} (${describeSetup(config, env)})`);

  return {
    url,
    async close() {
      // No new connections, idle ones closed now; requests in flight (an upload being received, a
      // save being committed) get SHUTDOWN_GRACE_MS to finish, so none leaves a file without its row.
      // A keep-alive connection turns idle once its response is sent: closed then, not at its timeout.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const cut = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearInterval(idle);
      clearTimeout(cut);
      await dataSource.destroy();
      // the last commit's save may still be replacing the SQLite file
      await databaseFile?.idle();
      await s3rver?.close();
    },
  };
}

if (require.main === module) {
  main().then(
    (app) => {
      const stop = () => {
        // a second Ctrl-C (the listeners are gone) quits at once
        console.log("Stopping: requests in flight may finish (Ctrl-C again to quit at once).");
        app.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? `Could not start the example app: ${error.message}` : error);
      process.exit(1);
    },
  );
}
