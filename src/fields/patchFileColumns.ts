import type { DataSource } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import { FileColumnTransformer } from "./FileColumnTransformer";
import { readRaw, touchSlot } from "./fileFieldState";

const patched = new WeakSet<DataSource>();

/*
 * TypeORM reads column values with `ColumnMetadata.getEntityValue(entity)`, i.e. through our
 * accessor, which always returns a FieldFile. For file columns we make it read the raw key instead,
 * so that a property never set (or not selected) reads as `undefined` and TypeORM leaves the column
 * untouched, exactly as for a plain column. Each file column's metadata object gets this override once
 * per DataSource; plain objects (criteria, partial updates) and embedded columns keep TypeORM's code.
 */
export function patchFileColumns(dataSource: DataSource): void {
  if (patched.has(dataSource) || !dataSource.isInitialized) return;
  patched.add(dataSource);
  for (const metadata of dataSource.entityMetadatas) {
    for (const column of metadata.columns) {
      if (column.transformer instanceof FileColumnTransformer && !column.embeddedMetadata) patchColumn(column);
    }
  }
}

function patchColumn(column: ColumnMetadata): void {
  const original = column.getEntityValue.bind(column);
  const originalSet = column.setEntityValue.bind(column);
  const transformer = column.transformer as FileColumnTransformer;
  const { propertyName } = column;
  column.getEntityValue = (entity: any, transform = false) => {
    if (entity === null || entity === undefined) return entity;
    const own = Object.getOwnPropertyDescriptor(entity, propertyName);
    const hasAccessor = own
      ? typeof own.get === "function"
      : propertyName in entity && !Object.hasOwn(entity, propertyName);
    if (!hasAccessor) return original(entity, transform);
    const raw = readRaw(entity, propertyName);
    return transform ? transformer.to(raw) : raw;
  };
  // After a save TypeORM sets every nullable column it did not write to null on the entity. For a
  // file column that would turn "untouched" into "cleared", and the next save would empty the column
  // and delete the file. A NULL from TypeORM over a never-set field therefore keeps it unset (it
  // still reads as an empty FieldFile); only your own assignments clear a field.
  column.setEntityValue = (entity: any, value: any) => {
    if ((value === null || value === undefined) && entity && readRaw(entity, propertyName) === undefined) {
      if (propertyName in entity && !Object.hasOwn(entity, propertyName)) touchSlot(entity, propertyName);
      return;
    }
    originalSet(entity, value);
  };
}
