const pad = (n: number) => String(n).padStart(2, "0");

/** Expands `%Y %m %d %H %M %S` (and `%%`) in UTC, as Django's `upload_to` does with strftime. */
export function strftime(template: string, date: Date = new Date()): string {
  return template.replace(/%([YmdHMS%])/g, (_, token: string) => {
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
