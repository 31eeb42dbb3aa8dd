import "reflect-metadata";
import { DataSource, type DataSourceOptions } from "typeorm";

/** Which database the entity tests run on: sql.js by default, `DB=postgres` or `DB=mariadb`. */
export const DB = (process.env.DB ?? "sqljs") as "sqljs" | "postgres" | "mariadb";

/** DataSource options for `DB`; `DATABASE_URL` overrides the local defaults. */
export function dataSourceOptions(entities: Function[], subscribers: Function[]): DataSourceOptions {
  const common = { entities, subscribers, synchronize: true, dropSchema: true, logging: false } as const;
  const url = process.env.DATABASE_URL;
  switch (DB) {
    case "sqljs":
      return { type: "sqljs", ...common };
    case "postgres":
      return url
        ? { type: "postgres", url, ...common }
        : { type: "postgres", host: "127.0.0.1", port: 5432, username: "postgres", database: "test", ...common };
    case "mariadb":
      return url
        ? { type: "mariadb", url, ...common }
        : {
            type: "mariadb",
            host: "127.0.0.1",
            port: 3306,
            username: "root",
            password: "",
            database: "test",
            ...common,
          };
    default:
      throw new Error(`Unknown DB=${DB}: use sqljs, postgres or mariadb.`);
  }
}

/** An initialized DataSource on the configured database. */
export async function openDataSource(entities: Function[], subscribers: Function[]): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(entities, subscribers));
  await ds.initialize();
  return ds;
}
