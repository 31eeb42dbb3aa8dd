import path from "node:path";
import { hashedStaticName } from "../keys/hashedStaticName";
import { scanScript } from "./scanScript";
import { scanStylesheet } from "./scanStylesheet";

/** One reference from a stylesheet or script to another static file, as written in it. */
export interface StaticReference {
  /**
   * Where the matched text (`url(...)`, `@import "..."`, a sourceMappingURL comment, a module
   * specifier with its quotes) starts and ends.
   */
  readonly start: number;
  readonly end: number;
  /** The URL as written, without surrounding quotes and spaces. */
  readonly url: string;
  /** The static file it points at, relative to the storage; null when it points above the storage root. */
  readonly target: string | null;
  /** The URL's path as written (its last segment is the file name to hash) and what followed it (`?v=2#x`). */
  readonly path: string;
  readonly suffix: string;
  /** What `path` is relative to: the referring file's directory (`css/`, or "" at the root), or `staticUrl`. */
  readonly base: string;
  /** Whether it is a sourceMappingURL comment, which only developer tools follow. */
  readonly sourceMap: boolean;
  /** The matched text again, with another URL. */
  render(url: string): string;
}

interface Pattern {
  /** Global; its last group is the URL. */
  readonly regexp: RegExp;
  readonly render: (url: string) => string;
  /** A sourceMappingURL comment: matched in the text as it is (it is a comment), and optional. */
  readonly sourceMap: boolean;
}

/** What `findStaticReferences` looks for besides what Django always rewrites. */
export interface StaticReferenceOptions {
  /** The URL path the storage is served under (`/static/`): absolute references under it are files too. */
  staticUrl?: string;
  /** Also ES module specifiers in scripts (`import ... from "./x.js"`), as Django's opt-in. */
  jsModules?: boolean;
}

/*
 * Django's HashedFilesMixin patterns (django/contrib/staticfiles/storage.py), with its templates:
 * `url(...)` and `@import "..."` in stylesheets, source map comments in stylesheets and scripts.
 * Django matches url() and @import case-insensitively and sourceMappingURL as written; spaces inside
 * `url( 'x' )` are allowed here, where Django takes the quotes for part of the name.
 */
const CSS_PATTERNS: readonly Pattern[] = [
  { regexp: /url\(\s*(['"]?)\s*(.*?)\1\s*\)/gi, render: (url) => `url("${quotable(url)}")`, sourceMap: false },
  { regexp: /@import\s*(["'])\s*(.*?)\1/gi, render: (url) => `@import url("${quotable(url)}")`, sourceMap: false },
  {
    regexp: /^\/\*#[ \t]sourceMappingURL=(.*?)[ \t]*\*\/$/gm,
    render: (url) => `/*# sourceMappingURL=${url} */`,
    sourceMap: true,
  },
];
const JS_PATTERNS: readonly Pattern[] = [
  {
    regexp: /^\/\/# sourceMappingURL=(.*?)[ \t]*$/gm,
    render: (url) => `//# sourceMappingURL=${url}`,
    sourceMap: true,
  },
];

/*
 * Django's `_js_module_import_aggregation_patterns`, which its `support_js_module_import_aggregation`
 * turns on: static `import ... from`, `export ... from`, side-effect `import "..."` and dynamic
 * `import("...")`, each only with a specifier starting with `.` or `/` (bare ones like "vue" are
 * resolved by an import map or a bundler, not by path). They are regular expressions, not a parser,
 * hence opt-in, as in Django. Unlike Django's, they match in the code only (not in comments, strings or
 * regular expression literals), `import`/`export` must be a keyword (not `obj.import(`), the statement
 * needs no semicolon, and a dynamic `import()` of a bare specifier is left alone (Django fails the
 * file on it). Each names its specifier, quotes included, `spec`; only that is rewritten.
 */
const JS_MODULE_PATTERNS: readonly RegExp[] = [
  /(?<![\w$.])import[\s{*][^;'"`]*?\bfrom\s*(?<spec>(["'])[./][^"'\n]*?\2)/g,
  /(?<![\w$.])export[\s{*][^;'"`]*?\bfrom\s*(?<spec>(["'])[./][^"'\n]*?\2)/g,
  /(?<![\w$.])import\s*(?<spec>(["'])[./][^"'\n]*?\2)/g,
  /(?<![\w$.])import\(\s*(?<spec>(["'])[./][^"'\n]*?\2)\s*\)/g,
];

/** A URL put between double quotes: a quote, backslash or line break in it is percent-encoded. */
function quotable(url: string): string {
  return url.replace(/["\\\n\r\f]/g, (c) => encodeURIComponent(c));
}

/** The patterns that apply to a file, by its extension; none for files that are not rewritten. */
function patternsFor(name: string): readonly Pattern[] {
  const ext = path.posix.extname(name).toLowerCase();
  if (ext === ".css") return CSS_PATTERNS;
  if (ext === ".js" || ext === ".mjs") return JS_PATTERNS;
  return [];
}

/** Whether collectstatic reads `name` for references to other files (stylesheets and scripts). */
export function mayReferenceFiles(name: string): boolean {
  return patternsFor(name).length > 0;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The references from the stylesheet or script `name` (relative to the storage) to other static
 * files, in order. Like Django, it leaves out URLs with a scheme (`data:`, `https:`), protocol-relative
 * ones (`//cdn/...`), bare fragments (`#icon`), references inside CSS comments and strings, and
 * absolute paths unless they start with `options.staticUrl` (the path the storage is served under,
 * e.g. `/static/`).
 * With `options.jsModules`, a script's ES module specifiers are references too.
 */
export function findStaticReferences(
  name: string,
  text: string,
  options: StaticReferenceOptions = {},
): StaticReference[] {
  const { staticUrl } = options;
  const patterns = patternsFor(name);
  if (patterns.length === 0) return [];
  const stylesheet = patterns === CSS_PATTERNS ? scanStylesheet(text) : null;
  const code = stylesheet?.code ?? text;
  const found: StaticReference[] = [];
  for (const pattern of patterns) {
    const regexp = new RegExp(pattern.regexp);
    const searched = pattern.sourceMap ? text : code;
    for (let match = regexp.exec(searched); match; match = regexp.exec(searched)) {
      const start = match.index;
      if (!pattern.sourceMap && stylesheet?.insideString(start)) {
        // text in a string, not a reference: look again one character on, as it may hide one
        regexp.lastIndex = start + 1;
        continue;
      }
      const url = (match.length > 2 ? match[2] : match[1]).trim();
      const reference = resolve(name, url, staticUrl);
      if (reference)
        found.push({
          start,
          end: start + match[0].length,
          url,
          render: pattern.render,
          sourceMap: pattern.sourceMap,
          ...reference,
        });
    }
  }
  if (options.jsModules && patterns === JS_PATTERNS) found.push(...findModuleSpecifiers(name, text, staticUrl));
  found.sort((a, b) => a.start - b.start);
  // a url() inside a matched @import (or the reverse) is one reference, not two
  const kept: StaticReference[] = [];
  for (const reference of found) if (reference.start >= (kept.at(-1)?.end ?? 0)) kept.push(reference);
  return kept;
}

/** The specifiers of a script's module imports and exports, each reference spanning the quoted string. */
function findModuleSpecifiers(name: string, text: string, staticUrl: string | undefined): StaticReference[] {
  const script = scanScript(text);
  const found: StaticReference[] = [];
  for (const pattern of JS_MODULE_PATTERNS) {
    const regexp = new RegExp(pattern.source, "dg");
    for (let match = regexp.exec(script.code); match; match = regexp.exec(script.code)) {
      const spec = match.indices?.groups?.spec;
      if (!spec) continue;
      const [start, end] = spec;
      // an `import` inside a literal, or a "specifier" that is not a string of the code: look again
      // one character on, since a false match may hide a true one
      if (script.insideLiteral(match.index) || !script.stringStarts.has(start)) {
        regexp.lastIndex = match.index + 1;
        continue;
      }
      const url = text.slice(start + 1, end - 1).trim();
      const reference = resolve(name, url, staticUrl);
      if (reference)
        found.push({ start, end, url, render: (hashed) => `"${quotable(hashed)}"`, sourceMap: false, ...reference });
    }
  }
  return found;
}

function resolve(
  name: string,
  url: string,
  staticUrl: string | undefined,
): Pick<StaticReference, "target" | "path" | "suffix" | "base"> | null {
  if (url === "" || url.startsWith("#") || url.startsWith("//") || /^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
  const cut = url.search(/[?#]/);
  const urlPath = cut === -1 ? url : url.slice(0, cut);
  const suffix = cut === -1 ? "" : url.slice(cut);
  if (urlPath === "") return null;
  let relative: string;
  let base: string;
  if (urlPath.startsWith("/")) {
    if (!staticUrl || !urlPath.startsWith(staticUrl)) return null;
    relative = decode(urlPath.slice(staticUrl.length));
    base = staticUrl;
  } else {
    relative = path.posix.join(path.posix.dirname(name), decode(urlPath));
    base = name.slice(0, name.lastIndexOf("/") + 1);
  }
  // a directory is no file to hash: Django leaves it as written
  if (urlPath.endsWith("/")) return null;
  const target = path.posix.normalize(relative);
  const outside = target === "." || target === ".." || target.startsWith("../") || target.startsWith("/");
  return { target: outside ? null : target, path: urlPath, suffix, base };
}

/**
 * `text` with every reference's file name replaced by its hashed one: `hashOf(target)` gives the
 * hash, which goes before the extension as Django places it (`../img/logo.png` becomes
 * `../img/logo.0123456789ab.png`), keeping the directories, query and fragment as written.
 */
export function rewriteReferences(
  text: string,
  references: readonly StaticReference[],
  hashOf: (target: string) => string,
): string {
  let out = "";
  let at = 0;
  for (const reference of references) {
    if (reference.target === null || reference.start < at) continue;
    const { target, path: written } = reference;
    const hashedTarget = hashedStaticName(target, hashOf(target));
    const slash = written.lastIndexOf("/");
    const segment = written.slice(slash + 1);
    const ext = path.posix.extname(target);
    let url: string;
    if (decode(segment) === path.posix.basename(target) && segment.endsWith(ext)) {
      // the usual case: the file name as written, with the hash before its extension
      url = `${written.slice(0, slash + 1)}${segment.slice(0, segment.length - ext.length)}.${hashOf(target)}${ext}`;
    } else {
      // a path whose last segment is not the file's name (`a.png/.`, `x/..`): the hashed file's own path
      const { base } = reference;
      url = base.startsWith("/")
        ? base + encodePath(hashedTarget)
        : encodePath(path.posix.relative(base || ".", hashedTarget));
    }
    out += text.slice(at, reference.start) + reference.render(url + reference.suffix);
    at = reference.end;
  }
  return out + text.slice(at);
}

function encodePath(relative: string): string {
  return relative.split("/").map(encodeURIComponent).join("/");
}
