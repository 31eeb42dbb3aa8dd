/**
 * The object reached from `root` through the property `names` (an embedded object's path, such as
 * `["media"]`), or `undefined` when a step is missing or not an object. With no names, `root` itself.
 */
export function objectAt(root: unknown, names: readonly string[]): object | undefined {
  let value = root;
  for (let i = 0; i < names.length; i++) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[names[i]];
  }
  return typeof value === "object" && value !== null ? value : undefined;
}
