/**
 * `path` with `\` read as `/` and its directory without empty and `.` segments (`a//./b` → `a/b`,
 * `./a` → `a`), as Django's `generate_filename` tidies a name with `os.path.normpath` after splitting
 * off the file name. Never throws. The last segment is kept as it is, so `dir/` and `dir/.` stay
 * nameless, and no `..` is resolved: those, and a leading `/`, are left for `validateKey` to refuse
 * (Django refuses them too: no file name, or path traversal).
 */
export function normalizeKey(path: string): string {
  const slashed = path.replace(/\\/g, "/");
  const slash = slashed.lastIndexOf("/");
  const directories = slashed
    .slice(0, slash + 1)
    .split("/")
    .filter((segment) => segment !== "" && segment !== ".");
  return `${slashed.startsWith("/") ? "/" : ""}${[...directories, slashed.slice(slash + 1)].join("/")}`;
}
