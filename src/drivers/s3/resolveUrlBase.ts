import type { S3Client } from "@aws-sdk/client-s3";
import { awsSdk } from "./awsSdk";
import type { ResolvedS3Options } from "./S3StorageOptions";
import { usesPathStyle } from "./usesPathStyle";

/** Where bucket URLs point: `origin` plus a path prefix (`/bucket` for path style, "" for virtual hosts). */
export interface UrlBase {
  origin: string;
  pathPrefix: string;
  /** The region URLs are signed for. */
  region: string;
}

/** Any key: S3's endpoint rules place the bucket, never the key. */
const PROBE = { Key: "key" };

/** What the SDK's endpoint rules answer. */
type EndpointV2 = ReturnType<S3Client["config"]["endpointProvider"]>;

type Settings = Pick<
  ResolvedS3Options,
  "bucketName" | "regionName" | "endpointUrl" | "publicEndpointUrl" | "clientConfig" | "client" | "addressingStyle"
>;

/**
 * Where the SDK client sends the requests of `settings.bucketName` (or, with `publicEndpointUrl`, where
 * it would send them on that endpoint), as the client itself resolves it: its region and partition
 * (`amazonaws.com.cn` in China), FIPS and dual-stack settings, path style, and an endpoint set by
 * `AWS_ENDPOINT_URL_S3` or a profile's `endpoint_url`. The same function the SDK's own presigner uses;
 * sends nothing.
 */
export async function clientUrlBase(client: S3Client, settings: Settings): Promise<UrlBase> {
  // a copy, as the SDK's middleware passes one: the lookup of a configured endpoint writes to it
  const config: Record<string, unknown> = { ...client.config };
  if (settings.publicEndpointUrl) {
    config.endpoint = async () => withoutTrailingSlash(settings.publicEndpointUrl as URL);
    config.isCustomEndpoint = true;
  }
  const endpoint = await awsSdk.endpoints.getEndpointFromInstructions(
    { Bucket: settings.bucketName, ...PROBE },
    awsSdk.clientS3.GetObjectCommand,
    config as never,
  );
  return baseOf(endpoint, await client.config.region());
}

/**
 * The same answer as `clientUrlBase`, without waiting, when the options decide it: the region is
 * known and nothing the SDK resolves later (a provider function in `clientConfig`, an injected client)
 * can change the endpoint. Null otherwise: `url()` then waits for `ready()`. The S3 parameters are
 * filled in as `@smithy/core`'s `resolveParamsForS3` does; `ready()` asks the SDK itself and replaces
 * this answer should they ever differ (an `endpoint_url` in a profile, which only the SDK reads).
 */
export function startupUrlBase(client: S3Client, settings: Settings): UrlBase | null {
  if (settings.client !== undefined) return injectedClientBase(client, settings);
  const given = settings.clientConfig;
  const region =
    settings.regionName ??
    (typeof given.region === "string" ? given.region : settings.endpointUrl ? "us-east-1" : null);
  if (region === null) return null;
  const endpoint = startupEndpoint(settings);
  const fips = flag(given.useFipsEndpoint, "AWS_USE_FIPS_ENDPOINT");
  const dualStack = flag(given.useDualstackEndpoint, "AWS_USE_DUALSTACK_ENDPOINT");
  if (endpoint === null || fips === null || dualStack === null) return null;
  return rulesBase(client, settings.bucketName, region, endpoint, {
    UseFIPS: fips,
    UseDualStack: dualStack,
    Accelerate: given.useAccelerateEndpoint === true,
    UseGlobalEndpoint: given.useGlobalEndpoint === true,
    ForcePathStyle: client.config.forcePathStyle === true,
  });
}

/**
 * With an injected client the connection options only shape URLs (README, `client`): when they name an
 * endpoint (`endpointUrl`, `publicEndpointUrl`) they decide where URLs point, and `ready()` leaves it
 * so; otherwise null, and `ready()` asks the client.
 */
function injectedClientBase(client: S3Client, settings: Settings): UrlBase | null {
  const endpoint = settings.publicEndpointUrl ?? settings.endpointUrl;
  if (!endpoint) return null;
  return rulesBase(client, settings.bucketName, settings.regionName ?? "us-east-1", withoutTrailingSlash(endpoint), {
    ForcePathStyle: usesPathStyle(settings) === true,
  });
}

/**
 * What the client's endpoint rules answer for `bucket`, with the S3 parameters filled in as
 * `@smithy/core`'s `resolveParamsForS3` does (a bucket no host name can carry goes in the path); the
 * flags not given are off. Null for a combination the rules refuse: `ready()` reports what the SDK says.
 */
function rulesBase(
  client: S3Client,
  bucket: string,
  region: string,
  endpoint: string | undefined,
  flags: {
    UseFIPS?: boolean;
    UseDualStack?: boolean;
    Accelerate?: boolean;
    UseGlobalEndpoint?: boolean;
    ForcePathStyle: boolean;
  },
): UrlBase | null {
  const params = {
    Bucket: bucket,
    ...PROBE,
    Region: region,
    Endpoint: endpoint,
    UseFIPS: false,
    UseDualStack: false,
    Accelerate: false,
    UseGlobalEndpoint: false,
    DisableMultiRegionAccessPoints: false,
    UseArnRegion: false,
    ...flags,
    ForcePathStyle: flags.ForcePathStyle || needsPathStyle(bucket, endpoint),
  };
  try {
    return baseOf(client.config.endpointProvider(params, {}), region);
  } catch {
    return null;
  }
}

/** The endpoint the client will use as a string, undefined for AWS's own, null when only the SDK can tell. */
function startupEndpoint(settings: Settings): string | undefined | null {
  const endpoint = settings.publicEndpointUrl ?? settings.endpointUrl;
  if (endpoint) return withoutTrailingSlash(endpoint);
  const given = settings.clientConfig.endpoint;
  if (typeof given === "string") return given;
  if (given !== undefined) return null;
  if (settings.clientConfig.ignoreConfiguredEndpointUrls === true) return undefined;
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true") return undefined;
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

/** A boolean client setting, or its environment variable; null when given as a provider. */
function flag(value: unknown, variable: string): boolean | null {
  if (typeof value === "boolean") return value;
  if (value !== undefined) return null;
  return process.env[variable]?.toLowerCase() === "true";
}

/** Buckets the SDK never puts in a host name (`resolveParamsForS3`). */
function needsPathStyle(bucket: string, endpoint: string | undefined): boolean {
  const dnsCompatible =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) && !/(\d+\.){3}\d+/.test(bucket) && !bucket.includes("..");
  return !dnsCompatible || (bucket.includes(".") && !String(endpoint).startsWith("http:"));
}

function baseOf(endpoint: EndpointV2, region: string): UrlBase {
  const scheme = (endpoint.properties?.authSchemes as { signingRegion?: string }[] | undefined)?.[0];
  const { url } = endpoint;
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, ""), region: scheme?.signingRegion ?? region };
}

function withoutTrailingSlash(url: URL): string {
  return url.href.replace(/\/+$/, "");
}
