const pad = (n: number) => String(n).padStart(2, "0");

/** The tokens `strftime` expands; any other `%` is refused where a template is declared. */
const TOKENS = /%([YmdHMS%])/g;

/** The first `%` token of `template` that `strftime` would leave as it is (`%y`, a lone `%`), or null. */
export function unexpandedToken(template: string): string | null {
  const left = template.replace(TOKENS, "");
  const at = left.indexOf("%");
  return at === -1 ? null : left.slice(at, at + 2);
}

/**
 * Expands `%Y %m %d %H %M %S` (and `%%`) in UTC, as Django's `upload_to` does with strftime (in the
 * server's local time there).
 */
export function strftime(template: string, date: Date = new Date()): string {
  return template.replace(TOKENS, (_, token: string) => {
    switch (token) {
      case "Y":
        return String(date.getUTCFullYear());
      case "m":
        return pad(date.getUTCMonth() + 1);
      case "d":
        return pad(date.getUTCDate());
      case "H":
        return pad(date.getUTCHours());
      case "M":
        return pad(date.getUTCMinutes());
      case "S":
        return pad(date.getUTCSeconds());
      default:
        return "%";
    }
  });
}
