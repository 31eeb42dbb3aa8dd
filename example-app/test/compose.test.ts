import fs from "node:fs";
import path from "node:path";
import { STORAGE_ENV_VARS } from "typeorm-storages";
import { parse } from "yaml";

// Docker is not available where these tests run, so docker-compose.yml is checked statically: every
// variable the app service sets must be one the app or storagesFromEnv reads, and the wiring must agree.
const ROOT = path.join(__dirname, "..", "..");
const compose = parse(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"));

function environment(service: string): Record<string, string> {
  const env = compose.services[service].environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(env.map((entry: string) => entry.split(/=(.*)/s).slice(0, 2)));
}

/** Source text without comments, so a variable only mentioned in a comment does not count as read. */
const code = (file: string) =>
  fs
    .readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");

const appSources = fs
  .readdirSync(path.join(__dirname, "..", "src"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => code(path.join(__dirname, "..", "src", f)))
  .join("\n");
// Every variable the library's storagesFromEnv reads, as the app gets the library from the workspace.
const libraryReads = new Set(STORAGE_ENV_VARS.map((variable) => variable.name));

describe("docker-compose.yml", () => {
  const app = environment("app");

  test.each(Object.keys(app))("the app service's %s is read by the app or storagesFromEnv", (name) => {
    const reads = new RegExp(`\\b${name}\\b`);
    expect(reads.test(appSources) || libraryReads.has(name)).toBe(true);
  });

  test("the app reaches S3 inside the network and renders URLs on the host's published port", () => {
    const internal = new URL(app.AWS_S3_ENDPOINT_URL);
    const published = new URL(app.AWS_S3_PUBLIC_ENDPOINT_URL);
    expect(Object.keys(compose.services)).toContain(internal.hostname);
    expect(compose.services[internal.hostname].ports).toContain(`${published.port}:${internal.port}`);
    expect(published.hostname).toBe("localhost");
    expect(app.USE_S3).toBe("true");
  });

  test("the app runs in production with a signing secret each deployment must set (no value checked in)", () => {
    expect(app.NODE_ENV).toBe("production");
    // Compose's required-variable syntax: `docker compose up` stops with the message when it is unset
    expect(app.STORAGES_SIGNING_SECRET).toMatch(/^\$\{STORAGES_SIGNING_SECRET:\?[^}]*STORAGES_SIGNING_SECRET[^}]*\}$/);
    expect(appSources).toMatch(/await storages\.ready\(\);\s*storages\.signingKey\(\);/);
  });

  test("the app's DATABASE_URL names the postgres service and its credentials", () => {
    const url = new URL(app.DATABASE_URL);
    const postgres = environment(url.hostname);
    expect(url.protocol).toBe("postgres:");
    expect(decodeURIComponent(url.username)).toBe(postgres.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(postgres.POSTGRES_PASSWORD);
    expect(url.pathname.slice(1)).toBe(postgres.POSTGRES_DB);
  });

  test("LocalStack is pinned to a tag, creates the app's bucket and makes public media readable", () => {
    const localstack = compose.services.localstack;
    expect(localstack.image).toMatch(/^localstack\/localstack:\d+\.\d+\.\d+$/);
    expect(environment("localstack").EXAMPLE_BUCKET).toBe(app.AWS_STORAGE_BUCKET_NAME);
    const [script] = (localstack.volumes as string[])[0].split(":");
    const init = fs.readFileSync(path.join(ROOT, script), "utf8");
    expect(init).toContain("put-bucket-policy");
    expect(init).toContain("s3:GetObject");
    expect(init).toContain("arn:aws:s3:::$BUCKET/media/*");
    expect(init).toContain("arn:aws:s3:::$BUCKET/static/*");
  });

  test("the app image is built from the repository with the example app's Dockerfile", () => {
    const build = compose.services.app.build;
    expect(fs.existsSync(path.join(ROOT, build.context, build.dockerfile))).toBe(true);
  });
});
