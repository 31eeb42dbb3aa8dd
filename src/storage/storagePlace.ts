import path from "node:path";
import { FileSystemStorage } from "./FileSystemStorage";
import { realPathOf } from "./realPathOf";
import { S3Storage } from "./S3Storage";
import type { Storage } from "./Storage";

/**
 * Where a storage keeps its objects: a namespace and its location's prefix in it. Two storages whose
 * namespaces are equal and whose prefixes are equal, or one inside the other, see some of the same
 * objects. On S3 the namespace is the bucket name alone (endpoints are spelled in many ways, and two
 * buckets of one name on two servers only make storages look shared, never the reverse); on disk it
 * is the file system, with the location's real path as prefix (symlinks resolved: two locations
 * reaching one directory by different paths are one place); any other storage is its own.
 */
export interface StoragePlace {
  space: unknown;
  prefix: string;
}

export function storagePlace(storage: Storage): StoragePlace {
  if (storage instanceof S3Storage)
    return { space: `s3 ${storage.settings.bucketName}`, prefix: storage.settings.keyPrefix };
  if (storage instanceof FileSystemStorage)
    return { space: "file system", prefix: `${realPathOf(storage.location).split(path.sep).join("/")}/` };
  return { space: storage, prefix: "" };
}

/** Whether `inner` lies at or inside `outer`: one namespace, and `outer`'s prefix starts `inner`'s. */
export function placeWithin(inner: StoragePlace, outer: StoragePlace): boolean {
  return inner.space === outer.space && inner.prefix.startsWith(outer.prefix);
}

/** Whether the two places share objects: one namespace, and one prefix equal to or inside the other. */
export function placesOverlap(a: StoragePlace, b: StoragePlace): boolean {
  return placeWithin(a, b) || placeWithin(b, a);
}
