import type { Storage } from "../storage/Storage";

/** Where a field's storage comes from: a registered name, an instance, or a function returning one. */
export type StorageReference = string | Storage | (() => Storage);

/** Builds a key from the entity and the cleaned filename, or a strftime-like template (`%Y/%m/%d/`). */
export type UploadTo<Entity = any> = string | ((entity: Entity, filename: string) => string | Promise<string>);

/** The registered description of one file field, as the decorators record it. */
export interface FileFieldDefinition {
  readonly target: Function;
  readonly propertyName: string;
  readonly storage: StorageReference;
  readonly uploadTo: UploadTo;
  readonly maxLength: number;
  readonly nullable: boolean;
  readonly keepFiles: boolean;
  readonly allowUnsafeInline: boolean;
  readonly isPrivate: boolean;
  /** Largest upload `save()` accepts, in bytes (undefined: no limit). */
  readonly maxSize: number | undefined;
  /** Content types and extensions `save()` accepts (undefined: any). */
  readonly accept: readonly string[] | undefined;
}
