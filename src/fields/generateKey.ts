import { keyLength } from "../keys/getAlternativeName";
import { normalizeKey } from "../keys/normalizeKey";
import { validateKey } from "../keys/validateKey";
import type { Storage } from "../storage/Storage";
import type { FileFieldDefinition, UploadTo } from "./FileFieldDefinition";
import { strftime } from "./strftime";

/**
 * The key a new upload is saved under: the filename cleaned by the storage's `getValidName`, placed by
 * the field's `uploadTo` (a strftime template directory, or a function of the entity and the cleaned
 * filename), tidied as Django's `generate_filename` tidies it (`\\` read as `/`, empty and `.` segments
 * dropped), then validated like any key. A key longer than the field's `maxLength` is shortened when
 * saved (Django's `get_available_name`), so only the shortened key is held to the 1024-byte limit.
 * Throws `InvalidKeyError`.
 */
export async function generateKey(
  field: FileFieldDefinition,
  storage: Storage,
  entity: object,
  filename: string,
): Promise<string> {
  const cleaned = storage.getValidName(filename);
  const placedKey = await placed(field.uploadTo, entity, cleaned);
  // a function may return anything: only a string is tidied, validateKey refuses the rest
  const key = typeof placedKey === "string" ? normalizeKey(placedKey) : placedKey;
  // a key longer than the column is shortened when saved: only the shortened key must fit 1024 bytes
  return validateKey(key, storage.name, !(typeof key === "string" && keyLength(key) > field.maxLength));
}

/** `cleaned` placed by `uploadTo`: the function's result, or under the expanded template's directory. */
async function placed(uploadTo: UploadTo, entity: object, cleaned: string): Promise<unknown> {
  if (typeof uploadTo === "function") return uploadTo(entity, cleaned);
  return inDirectory(strftime(uploadTo), cleaned);
}

/** `name` inside the expanded `uploadTo` directory `dir` (none when empty; a trailing `/` is optional). */
export const inDirectory = (dir: string, name: string) =>
  dir === "" ? name : dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
