import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

function version(pkg: string): string {
  try {
    const file = path.join(process.cwd(), "node_modules", pkg, "package.json");
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** The machine and software a run measured on, for the JSON and the report. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? "unknown"}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((n) => Number(n.toFixed(2))),
    versions: Object.fromEntries(
      [
        "@aws-sdk/client-s3",
        "@aws-sdk/lib-storage",
        "@aws-sdk/s3-request-presigner",
        "s3rver",
        "typeorm",
        "sql.js",
      ].map((pkg) => [pkg, version(pkg)]),
    ),
  };
}
