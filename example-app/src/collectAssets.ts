import path from "node:path";
import { collectStatic, StaticManifest, storages } from "typeorm-storages";
import { APP_DIR } from "./config";

/**
 * Copies `public/` into the `staticfiles` storage with content-hashed names and loads the manifest, as
 * `npx typeorm-storages collectstatic public --manifest` would: the example does it at start-up so that
 * one command runs it, where a deployment runs the command once per release, before the app starts.
 * Throws, naming the files, when one cannot be collected.
 */
export async function collectAssets(): Promise<StaticManifest> {
  const storage = storages.get("staticfiles");
  const summary = await collectStatic(storage, [path.join(APP_DIR, "public")], { manifest: true });
  if (summary.failed > 0) {
    const failures = summary.failures.map((failure) => `${failure.name}: ${failure.reason}`).join("; ");
    throw new Error(`Could not collect the static files: ${failures}`);
  }
  return StaticManifest.load(storage);
}
