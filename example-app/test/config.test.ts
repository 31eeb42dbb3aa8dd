import path from "node:path";
import { readConfig } from "../src/config";

describe("readConfig", () => {
  const dataDir = path.resolve("/srv/example-data");
  const database = (env: Record<string, string>) => readConfig({ DATA_DIR: dataDir, ...env }).databasePath;

  // A row holds a key, not where it lives: a database shared by two backends has old rows naming keys
  // the new place hands out again, and deleting such a row deletes a new row's file.
  test("gives each media backend and bucket its own SQLite file", () => {
    const disk = database({});
    const embedded = database({ EMBEDDED_S3: "1" });
    const s3 = database({ AWS_STORAGE_BUCKET_NAME: "media-prod" });
    expect([disk, embedded, s3]).toEqual([
      path.join(dataDir, "app.sqlite"),
      path.join(dataDir, "app-s3rver-example-media.sqlite"),
      path.join(dataDir, "app-s3-media-prod.sqlite"),
    ]);
    expect(database({ EMBEDDED_S3: "1", AWS_STORAGE_BUCKET_NAME: "other" })).toBe(
      path.join(dataDir, "app-s3rver-other.sqlite"),
    );
    expect(database({ USE_S3: "true", AWS_S3_BUCKET_NAME: "dss/../x" })).toBe(
      path.join(dataDir, "app-s3-dss_.._x.sqlite"),
    );
    expect(database({ USE_S3: "false", AWS_STORAGE_BUCKET_NAME: "media-prod" })).toBe(disk);
  });

  test("uses DATABASE_PATH as given, whatever the backend", () => {
    expect(database({ EMBEDDED_S3: "1", DATABASE_PATH: "/tmp/mine.sqlite" })).toBe(path.resolve("/tmp/mine.sqlite"));
  });

  test("takes the app's origins from APP_ORIGIN, by default 127.0.0.1 and localhost on PORT", () => {
    expect(readConfig({ PORT: "8080" }).origins).toEqual(["http://127.0.0.1:8080", "http://localhost:8080"]);
    expect(readConfig({ PORT: "0" }).origins).toBeNull(); // known once listening
    expect(readConfig({ APP_ORIGIN: "https://Media.example.com, http://localhost:3000/" }).origins).toEqual([
      "https://media.example.com",
      "http://localhost:3000",
    ]);
    for (const bad of ["media.example.com", "https://example.com/app", "ftp://example.com", "https://a.example,"]) {
      expect(() => readConfig({ APP_ORIGIN: bad })).toThrow(/^APP_ORIGIN must list origins/);
    }
  });
});
