/**
 * Child-process entry: runs the shimmed s3rver (example-app/src/embeddedS3.ts) so its CPU and memory
 * stay out of the processes being measured. Reports `{ endpoint }` over IPC; stops when the parent
 * disconnects.
 */
import { startS3rver } from "../example-app/src/embeddedS3";

async function main(): Promise<void> {
  const directory = process.argv[2];
  if (!directory || !process.send) throw new Error("usage: fork(s3rverProcess.js, [directory]) with an IPC channel");
  const server = await startS3rver(directory);
  process.once("disconnect", () => {
    server.close().finally(() => process.exit(0));
  });
  process.send({ endpoint: server.endpoint });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
