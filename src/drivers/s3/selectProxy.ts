import { isIP } from "node:net";

/** Where a request goes: the parts of its URL a proxy is chosen by. */
export interface ProxyTarget {
  /** `http:` or `https:`. */
  protocol: string;
  hostname: string;
  /** The port, when not the scheme's default. */
  port?: number | string;
}

/** botocore adds `http://` to a proxy URL without a scheme. */
export function proxyUrl(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

/** `host` as `new URL()` spells it (lower case, IPv6 in brackets). */
function urlHost(hostname: string): string {
  const bare = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/** The host, then each parent domain but the top-level one (`b.s3.example.com`, `s3.example.com`, `example.com`). */
function hostAndParents(host: string): string[] {
  const labels = host.split(".");
  if (host.startsWith("[") || isIP(host) !== 0 || labels.length === 1) return [host];
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
}

/**
 * The proxy URL for a request to `target` under `proxies` (botocore's format), or undefined to connect
 * directly. The most specific key wins:
 *
 * 1. `scheme://host:port`, then `scheme://host`: the request's host, then each parent domain, so
 *    `https://s3.eu-west-1.amazonaws.com` also covers the virtual-hosted
 *    `bucket.s3.eu-west-1.amazonaws.com`. A key without a port matches every port (botocore compares
 *    host names only); one with a port matches that port alone.
 * 2. The scheme alone: `http` or `https`.
 *
 * Keys compare case-insensitively; the scheme is the request's (an `https` key never proxies plain http).
 */
export function selectProxy(proxies: Readonly<Record<string, string>>, target: ProxyTarget): string | undefined {
  const table = new Map<string, string>();
  for (const [key, value] of Object.entries(proxies)) table.set(normalizeKey(key), proxyUrl(value));
  if (table.size === 0) return undefined;
  const scheme = target.protocol.replace(/:$/, "").toLowerCase();
  const port = target.port === undefined || target.port === "" ? defaultPort(`${scheme}:`) : String(target.port);
  for (const host of hostAndParents(urlHost(target.hostname))) {
    const proxy = table.get(`${scheme}://${host}:${port}`) ?? table.get(`${scheme}://${host}`);
    if (proxy !== undefined) return proxy;
  }
  return table.get(scheme);
}

/** `HTTPS://Host:443` and `https://host` name the same target; keys are validated by the options already. */
function normalizeKey(key: string): string {
  if (!key.includes("://")) return key.toLowerCase();
  const url = new URL(key);
  const scheme = url.protocol.replace(/:$/, "");
  return `${scheme}://${url.hostname}${url.port ? `:${url.port}` : ""}`;
}
