import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { describeStorageContract } from "./storageContract";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "typeorm-storages-fs-contract-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const noMetadata = { skip: { declaredContentType: "the file system keeps no metadata; types come from the key" } };

describeStorageContract("filesystem", () => new FileSystemStorage({ location: path.join(root, "media") }), noMetadata);
describeStorageContract(
  "filesystem (signed URLs)",
  () =>
    new FileSystemStorage({
      location: path.join(root, "private"),
      baseUrl: "https://files.example/private/",
      querystringAuth: true,
      signingSecret: "s".repeat(32),
    }),
  noMetadata,
);
