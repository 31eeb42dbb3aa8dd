/** A stylesheet's text as the patterns of `findStaticReferences` read it. */
export interface ScannedStylesheet {
  /** The text with its comments replaced by spaces (line breaks kept), so offsets are unchanged. */
  readonly code: string;
  /** Whether `offset` lies inside a quoted string (its quotes excluded). */
  insideString(offset: number): boolean;
}

/**
 * Reads `css` far enough to tell comments and strings from the rest, so that patterns never match
 * inside a comment, nor start there and run on into the code, and a `url(...)` written in a string
 * (`content: "url(x.png)"`) is left as text, as Django does since ticket #35371. A quoted slash-star is
 * not a comment; a backslash escapes the next character, in a string or out of it (`.tw\:bg-\[url\(\'x\'\)\]`
 * opens no string); a string ends at its closing quote or the end of the line.
 */
export function scanStylesheet(css: string): ScannedStylesheet {
  let code = "";
  let at = 0;
  const strings: [number, number][] = [];
  for (let i = 0; i < css.length; i++) {
    const c = css[i];
    if (c === "\\") {
      i++;
    } else if (c === '"' || c === "'") {
      const start = i;
      for (i++; i < css.length && css[i] !== c && css[i] !== "\n"; i++) if (css[i] === "\\") i++;
      strings.push([start, i]);
    } else if (c === "/" && css[i + 1] === "*") {
      const end = css.indexOf("*/", i + 2);
      const stop = end === -1 ? css.length : end + 2;
      code += css.slice(at, i) + css.slice(i, stop).replace(/[^\n]/g, " ");
      at = stop;
      i = stop - 1;
    }
  }
  code += css.slice(at);
  return { code, insideString: (offset) => strings.some(([start, end]) => offset > start && offset < end) };
}
