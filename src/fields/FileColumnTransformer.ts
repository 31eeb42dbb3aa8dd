import type { ValueTransformer } from "typeorm";
import { toRaw } from "./fileFieldState";

/**
 * Column value <-> raw key. Pure, as TypeORM requires: `to(from(x)) === x` for every stored value, so
 * loading and saving an unchanged entity issues no UPDATE. An empty field is NULL, or "" for a
 * non-nullable column (Django's convention); "" always reads as empty.
 */
export class FileColumnTransformer implements ValueTransformer {
  constructor(readonly nullable: boolean) {}

  to(value: unknown): string | null | undefined {
    const raw = toRaw(value, () => "A file column");
    if (raw === null) return this.nullable ? null : "";
    return raw;
  }

  from(value: unknown): string | null {
    return typeof value === "string" ? value : null;
  }
}
