import { isFileStorageError } from "../errors/FileStorageError";
import { StorageConfigError } from "../errors/StorageConfigError";
import type { Storage } from "../storage/Storage";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { resolveStorage } from "./resolveStorage";

/** What lets go of the file: the removal of its row, `FieldFile.delete()`, or a save of a changed field. */
export type LettingGo = "remove" | "clear" | "save";

const doing: Record<LettingGo, string> = {
  remove: "removing the row",
  clear: "clearing the field",
  save: "saving its new value",
};

const before: Record<LettingGo, string> = {
  remove: "removing the row",
  clear: "calling delete()",
  save: "saving the entity",
};

/*
 * A file a row lets go of is deleted after the commit, through the field's storage. Found missing only
 * then (TypeORM's `afterRemove`, `afterUpdate`), the DELETE or UPDATE had run: the row was gone (or
 * changed) with nothing left naming the file, TypeORM had cleared the removed entity's id, and a
 * retry had to load the row again. So the subscriber asks for the storage before the statement, where
 * it first knows the key the row holds, and a process that has not configured it fails with nothing
 * written. A field whose file is kept (`keepFiles`, an empty row, a field the save leaves alone) needs
 * no storage and is never asked.
 */

/**
 * The storage of `field`, needed to delete `key`, the file the row lets go of; throws a
 * `StorageConfigError` naming the field and the storage (with the registry's error as its cause) when
 * this process cannot resolve it.
 */
export function requireStorage(field: FileFieldDefinition, key: string | null, lettingGo: LettingGo): Storage {
  try {
    return resolveStorage(field.storage);
  } catch (cause) {
    const name = typeof field.storage === "string" ? field.storage : isFileStorageError(cause) ? cause.storage : null;
    const where = name === null ? "on the storage its function returns" : `on storage "${name}"`;
    const file = key === null ? "its file" : `its file ${JSON.stringify(key)}`;
    throw new StorageConfigError(
      `${field.target.name}.${field.propertyName} keeps its files ${where}, which this process cannot ` +
        `resolve, so ${doing[lettingGo]} would leave ${file} behind: nothing was written. Configure that ` +
        `storage in this process with storages.configure() before ${before[lettingGo]}, or declare the ` +
        `field with keepFiles: true if its files are meant to outlive their rows. ${(cause as Error).message}`,
      { key, storage: name, cause },
    );
  }
}
