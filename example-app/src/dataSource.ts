import fs from "node:fs";
import path from "node:path";
import { DataSource } from "typeorm";
import { FileFieldSubscriber } from "typeorm-storages";
import type { AppConfig } from "./config";
import { DatabaseFile } from "./DatabaseFile";
import { Upload } from "./Upload";

/** The app's DataSource and, on SQLite, the file it saves to (`null` on PostgreSQL). */
export interface AppDataSource {
  dataSource: DataSource;
  databaseFile: DatabaseFile | null;
}

/**
 * The app's DataSource: PostgreSQL when `DATABASE_URL` is set, otherwise SQLite through sql.js (no
 * native build) saved to `databasePath` after every write, before the write returns (atomically, see
 * `DatabaseFile`). `synchronize` creates the tables.
 */
export function createDataSource(config: AppConfig): AppDataSource {
  const common = { entities: [Upload], subscribers: [FileFieldSubscriber], synchronize: true, logging: false };
  if (config.databaseUrl) {
    return { dataSource: new DataSource({ type: "postgres", url: config.databaseUrl, ...common }), databaseFile: null };
  }
  fs.mkdirSync(path.dirname(config.databasePath), { recursive: true });
  const databaseFile = new DatabaseFile(config.databasePath);
  databaseFile.removeLeftovers();
  const dataSource = new DataSource({
    type: "sqljs",
    location: config.databasePath,
    autoSave: true,
    autoSaveCallback: (bytes: Uint8Array) => databaseFile.save(bytes),
    ...common,
  });
  return { dataSource, databaseFile };
}
