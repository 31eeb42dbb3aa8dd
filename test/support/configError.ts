import { StorageConfigError } from "../../src/errors/StorageConfigError";

/** Runs `make`, expects it to throw a `StorageConfigError`, and returns that error for message checks. */
export function configError(make: () => unknown): StorageConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageConfigError);
    return error as StorageConfigError;
  }
  throw new Error("expected a StorageConfigError");
}
