/**
 * `path` without empty and `.` segments (`a//./b` → `a/b`, `./a` → `a`), as Django's `os.path.normpath`
 * tidies a name in `generate_filename`. Never throws. Unlike `normpath` it resolves no `..`: those, and a
 * leading `/`, are kept for `validateKey` to refuse (Django refuses them too, as path traversal).
 */
export function normalizeKey(path: string): string {
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  return `${path.startsWith("/") ? "/" : ""}${segments.join("/")}`;
}
