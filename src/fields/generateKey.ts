import { validateKey } from "../keys/validateKey";
import type { Storage } from "../storage/Storage";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { strftime } from "./strftime";

/**
 * The key a new upload is saved under: the filename cleaned by the storage's `getValidName`, placed by
 * the field's `uploadTo` (a strftime template directory, or a function of the entity and the cleaned
 * filename), then validated like any key. Throws `InvalidKeyError`.
 */
export async function generateKey(
  field: FileFieldDefinition,
  storage: Storage,
  entity: object,
  filename: string,
): Promise<string> {
  const cleaned = storage.getValidName(filename);
  const { uploadTo } = field;
  if (typeof uploadTo === "function") return validateKey(await uploadTo(entity, cleaned), storage.name);
  const dir = strftime(uploadTo);
  const key = dir === "" ? cleaned : dir.endsWith("/") ? `${dir}${cleaned}` : `${dir}/${cleaned}`;
  return validateKey(key, storage.name);
}
