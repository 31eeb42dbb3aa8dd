import fs from "node:fs";
import path from "node:path";
import { DataSource } from "typeorm";
import { FileFieldSubscriber } from "typeorm-storages";
import type { AppConfig } from "./config";
import { Upload } from "./Upload";

/**
 * The app's DataSource: PostgreSQL when `DATABASE_URL` is set, otherwise SQLite through sql.js (no
 * native build) saved to `databasePath` after every write. `synchronize` creates the tables.
 */
export function createDataSource(config: AppConfig): DataSource {
  const common = { entities: [Upload], subscribers: [FileFieldSubscriber], synchronize: true, logging: false };
  if (config.databaseUrl) return new DataSource({ type: "postgres", url: config.databaseUrl, ...common });
  fs.mkdirSync(path.dirname(config.databasePath), { recursive: true });
  return new DataSource({ type: "sqljs", location: config.databasePath, autoSave: true, ...common });
}
