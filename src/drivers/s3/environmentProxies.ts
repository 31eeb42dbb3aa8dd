import { StorageConfigError } from "../../errors/StorageConfigError";
import { proxyUrl } from "./selectProxy";

/** Proxies read from the environment, and the hosts `NO_PROXY` exempts. */
export interface EnvironmentProxies {
  /** `{ http?, https? }`: proxy URLs by the scheme of the request. */
  proxies: Record<string, string>;
  /** True when a request to `hostname` (and `port`) goes directly, by `NO_PROXY`. */
  bypass: (hostname: string, port: string) => boolean;
}

/**
 * The proxies botocore takes from the environment when no `proxies` are configured (urllib's
 * `getproxies()` and `proxy_bypass()`), so a django-storages deployment behind an egress proxy keeps
 * working: `https_proxy`/`HTTPS_PROXY` and `http_proxy`/`HTTP_PROXY`, the lower-case name first;
 * `HTTP_PROXY` is skipped when `REQUEST_METHOD` is set (under CGI a request's `Proxy:` header becomes
 * it, "httpoxy"). `no_proxy`/`NO_PROXY` lists hosts reached directly: a name matches itself and its
 * subdomains (a leading `.` changes nothing), with or without `:port`, and `*` matches every host.
 * Null when no proxy is set. Throws `StorageConfigError` naming the variable for a proxy URL that
 * cannot be parsed.
 */
export function environmentProxies(env: Record<string, string | undefined> = process.env): EnvironmentProxies | null {
  const proxies: Record<string, string> = {};
  for (const scheme of ["https", "http"]) {
    const lower = `${scheme}_proxy`;
    const upper = lower.toUpperCase();
    const name = env[lower] ? lower : env[upper] && !(scheme === "http" && env.REQUEST_METHOD) ? upper : undefined;
    if (name === undefined) continue;
    const value = (env[name] as string).trim();
    if (!URL.canParse(proxyUrl(value))) {
      throw new StorageConfigError(
        `S3Storage: ${name} (${JSON.stringify(value)}) is not a proxy URL like http://proxy:3128, and S3 requests ` +
          `would go through it. Fix it, or set proxies (AWS_S3_PROXIES='{}' for none).`,
      );
    }
    proxies[scheme] = value;
  }
  if (Object.keys(proxies).length === 0) return null;
  const exempt = (env.no_proxy || env.NO_PROXY || "")
    .split(",")
    .map((name) => name.trim().replace(/^\.+/, "").toLowerCase())
    .filter((name) => name !== "");
  const bypass = (hostname: string, port: string) => {
    const host = hostname.toLowerCase();
    const withPort = `${host}:${port}`;
    return exempt.some(
      (name) =>
        name === "*" || [host, withPort].some((candidate) => candidate === name || candidate.endsWith(`.${name}`)),
    );
  };
  return { proxies, bypass };
}
