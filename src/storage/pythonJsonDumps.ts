/**
 * `value` (strings, arrays and plain objects of them) as Python's `json.dumps` writes it with its
 * defaults, which Django's manifest uses: `", "` and `": "` between items, and every character after
 * `~` escaped (`\u007f`, `\u00e9`, a surrogate pair above U+FFFF). JSON either way; the bytes matter because
 * the manifest's `hash` is the MD5 of such text. Throws `TypeError` for any other kind of value.
 */
export function pythonJsonDumps(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(", ")}]`;
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype)
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonJsonDumps(key)}: ${pythonJsonDumps(item)}`)
      .join(", ")}}`;
  throw new TypeError(`pythonJsonDumps writes strings, arrays and plain objects, not ${typeof value}.`);
}
