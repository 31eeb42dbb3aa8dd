import type { FileFieldDefinition } from "./FileFieldDefinition";

const own = new Map<Function, Map<string, FileFieldDefinition>>();
const resolved = new WeakMap<Function, readonly FileFieldDefinition[]>();

/** Records a file field; called by the decorators only. */
export function registerFileField(definition: FileFieldDefinition): void {
  let fields = own.get(definition.target);
  if (!fields) {
    fields = new Map();
    own.set(definition.target, fields);
  }
  fields.set(definition.propertyName, definition);
}

/** The file fields of `ctor`, inherited ones included (a subclass's own definition wins); cached. */
export function getFileFields(ctor: Function): readonly FileFieldDefinition[] {
  const cached = resolved.get(ctor);
  if (cached) return cached;
  const byName = new Map<string, FileFieldDefinition>();
  const chain: Function[] = [];
  for (let c: any = ctor; c && c !== Function.prototype && c !== Object; c = Object.getPrototypeOf(c)) chain.push(c);
  for (const c of chain.reverse()) for (const [name, def] of own.get(c) ?? []) byName.set(name, def);
  const list = Object.freeze([...byName.values()]);
  resolved.set(ctor, list);
  return list;
}
