/** A script's text as the module patterns of `findStaticReferences` read it. */
export interface ScannedScript {
  /** The text with its comments replaced by spaces (line breaks kept), so offsets are unchanged. */
  readonly code: string;
  /** Where each string and template literal starts (its opening quote), in order. */
  readonly stringStarts: ReadonlySet<number>;
  /** Whether `offset` lies inside a string, template or regular expression literal (its delimiters excluded). */
  insideLiteral(offset: number): boolean;
}

/** After these a `/` starts a regular expression literal, not a division. */
const BEFORE_REGEXP = new Set("(,=:[!&|?{};+-*%<>~^".split(""));
const KEYWORDS_BEFORE_REGEXP =
  /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|instanceof|yield|await)$/;

/**
 * Reads `text` as JavaScript far enough to tell code from comments and strings: line and block
 * comments, single- and double-quoted strings, template literals (their `${}` expressions taken as
 * part of them), and regular expression literals (told from a division by what precedes the slash),
 * so that an `import` written in a comment, a string or a regular expression is not taken for one.
 * It never throws: text that is not valid JavaScript is read as far as it goes.
 */
export function scanScript(text: string): ScannedScript {
  let code = "";
  let at = 0;
  const ranges: [number, number][] = [];
  const stringStarts = new Set<number>();
  let previous = "";
  const blank = (from: number, to: number) => {
    code += text.slice(at, from) + text.slice(from, to).replace(/[^\n]/g, " ");
    at = to;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop - 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      blank(i, stop);
      i = stop - 1;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const start = i;
      let depth = 0;
      for (i++; i < text.length; i++) {
        const d = text[i];
        if (d === "\\") i++;
        else if (c !== "`" && (d === c || d === "\n")) break;
        else if (c === "`" && d === "$" && text[i + 1] === "{") {
          depth++;
          i++;
        } else if (c === "`" && depth > 0 && d === "}") depth--;
        else if (c === "`" && depth === 0 && d === "`") break;
      }
      stringStarts.add(start);
      ranges.push([start, i]);
      previous = "a";
      continue;
    }
    const startsRegExp =
      previous === "" ||
      BEFORE_REGEXP.has(previous) ||
      (previous === "a" && KEYWORDS_BEFORE_REGEXP.test(text.slice(Math.max(0, i - 16), i).trimEnd()));
    if (c === "/" && startsRegExp) {
      const start = i;
      let inClass = false;
      for (i++; i < text.length && text[i] !== "\n"; i++) {
        const d = text[i];
        if (d === "\\") i++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
      }
      ranges.push([start, i]);
      previous = "a";
      continue;
    }
    if (!/\s/.test(c)) previous = /[\w$]/.test(c) ? "a" : c;
  }
  code += text.slice(at);
  return {
    code,
    stringStarts,
    insideLiteral: (offset) => ranges.some(([start, end]) => offset > start && offset < end),
  };
}
