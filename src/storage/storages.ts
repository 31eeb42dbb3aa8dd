import { StorageRegistry } from "./StorageRegistry";

/** The process-wide storage registry that `@FileColumn` and `FieldFile` resolve names through. */
export const storages = new StorageRegistry();
