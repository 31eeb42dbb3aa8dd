import type { IncomingMessage, ServerResponse } from "node:http";

/** Why `serveFiles` refuses a signed URL, by `UrlSigner.verify`'s reason. */
export const REFUSALS = {
  missing: "Forbidden: this file needs a signed URL.",
  invalid: "Forbidden: the URL's signature is invalid.",
  expired: "Forbidden: the signed URL has expired.",
} as const;

/** A short plain-text answer, never cached, with no body for HEAD. */
export function reply(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.end(req.method === "HEAD" ? undefined : body);
}
