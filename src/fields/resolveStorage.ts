import { Storage } from "../storage/Storage";
import { storages } from "../storage/storages";
import type { StorageReference } from "./FileFieldDefinition";

/** The storage a field refers to, looked up now (so `storages.configure`/`fake` take effect). */
export function resolveStorage(reference: StorageReference): Storage {
  if (typeof reference === "string") return storages.get(reference);
  if (reference instanceof Storage) return reference;
  return reference();
}

/**
 * The storage a field refers to, or undefined when it cannot be resolved (not configured in this
 * process, or a function that throws): for work that must not fail for a field it leaves alone.
 */
export function resolveStorageIfConfigured(reference: StorageReference): Storage | undefined {
  try {
    return resolveStorage(reference);
  } catch {
    return undefined;
  }
}
