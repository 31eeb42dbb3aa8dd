import type { AgentOptions } from "node:http";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { NodeHttpHandlerOptions } from "@smithy/node-http-handler";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { awsSdk } from "./awsSdk";
import { environmentProxies } from "./environmentProxies";
import { type AgentSettings, httpAgents } from "./httpAgents";
import { ProxyRoutingHandler } from "./ProxyRoutingHandler";
import type { ResolvedS3Options } from "./S3StorageOptions";
import { usesPathStyle } from "./usesPathStyle";
import { verifyTlsOptions } from "./verifyTlsOptions";

/** The SDK's default NodeHttpHandler pools at most 50 sockets per host; keep that unless uploads want more. */
const SDK_MAX_SOCKETS = 50;

/**
 * Builds the SDK client of an S3 storage: region, endpoint and addressing style; credentials from
 * `sessionProfile`, the keys, or else the SDK's default chain; `useSsl`; and, only when `verify` or
 * `proxies` ask for it, its own HTTP handler (otherwise the SDK's default one, untouched). Throws
 * `StorageConfigError` when the `verify` CA bundle cannot be read or `clientConfig.requestHandler`
 * is a ready handler that `verify`/`proxies` cannot configure.
 */
export function buildS3Client(options: ResolvedS3Options): S3Client {
  const config: S3ClientConfig = { ...options.clientConfig };
  const region = options.regionName ?? (options.endpointUrl && !config.region ? "us-east-1" : undefined);
  if (region !== undefined) config.region = region;
  if (options.endpointUrl) config.endpoint = options.endpointUrl.href.replace(/\/$/, "");
  const pathStyle = usesPathStyle(options, config);
  if (pathStyle !== undefined) config.forcePathStyle = pathStyle;
  // The client's profile reaches its default credential chain, which then skips AWS_ACCESS_KEY_ID and
  // friends, as boto3's Session(profile_name=...) does; region and other settings come from it too.
  if (options.sessionProfile !== undefined) config.profile = options.sessionProfile;
  if (options.accessKey !== undefined && options.secretKey !== undefined) {
    config.credentials = {
      accessKeyId: options.accessKey,
      secretAccessKey: options.secretKey,
      sessionToken: options.securityToken,
    };
  }
  const requestHandler = buildRequestHandler(options, config.requestHandler);
  if (requestHandler !== undefined) config.requestHandler = requestHandler;
  const client = new awsSdk.clientS3.S3Client(config);
  if (!options.useSsl && options.endpointUrl === undefined) useHttpEndpoints(client);
  if (options.sessionProfile !== undefined) explainMissingProfile(client, options.sessionProfile);
  return client;
}

/**
 * A profile that is missing or incomplete makes the SDK's chain fail with "Could not load credentials
 * from any providers"; say which profile and where it is looked up instead. The client reads
 * `config.credentials` on every request (and `S3Credentials` for presigning), so wrapping it suffices.
 */
function explainMissingProfile(client: S3Client, profile: string): void {
  const provider = client.config.credentials;
  client.config.credentials = async (identityOptions) => {
    try {
      return await provider(identityOptions);
    } catch (error) {
      if ((error as Error | null)?.name !== "CredentialsProviderError") throw error;
      throw new StorageConfigError(
        `S3Storage: no usable credentials in profile "${profile}" (sessionProfile, AWS_S3_SESSION_PROFILE): ` +
          `${(error as Error).message}. Add [${profile}] to ~/.aws/credentials or [profile ${profile}] to ` +
          "~/.aws/config (or the files AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE name), or drop sessionProfile.",
        { cause: error },
      );
    }
  };
}

/**
 * `useSsl: false` for AWS endpoints. The SDK's endpoint rules always answer https (its `tls` option no
 * longer reaches them), so their answer is rewritten, as botocore's EndpointRulesetResolver does for
 * `use_ssl=False`; the endpoint middleware reads the provider from the client's config on every request.
 * An endpoint the user configured (`endpointUrl`, or `AWS_ENDPOINT_URL_S3`) keeps its own scheme.
 */
function useHttpEndpoints(client: S3Client): void {
  const resolve = client.config.endpointProvider;
  client.config.endpointProvider = (params, context) => {
    const endpoint = resolve(params, context);
    if (params.Endpoint !== undefined || endpoint.url.protocol !== "https:") return endpoint;
    const url = new URL(endpoint.url.href);
    url.protocol = "http:";
    return { ...endpoint, url };
  };
}

/** Undefined to keep `given` (the SDK's default handler when it is undefined too). */
function buildRequestHandler(
  options: ResolvedS3Options,
  given: S3ClientConfig["requestHandler"],
): S3ClientConfig["requestHandler"] {
  const tls = verifyTlsOptions(options.verify);
  // botocore reads HTTP(S)_PROXY when no proxies are configured; a handler of the user's own keeps its routes
  const environment = options.proxies === undefined && !isReadyHandler(given) ? environmentProxies() : null;
  const proxies = options.proxies ?? environment?.proxies ?? {};
  const proxied = Object.keys(proxies).length > 0;
  if (tls === null && !proxied) return undefined;
  const { httpAgent, httpsAgent, ...handlerOptions } = handlerOptionsOf(given);
  // Keep-alive as in the SDK's default agents, and enough sockets for maxConcurrency parts at once.
  const defaults: AgentOptions = { keepAlive: true, maxSockets: Math.max(SDK_MAX_SOCKETS, options.maxConcurrency) };
  const agents: AgentSettings = {
    http: { ...defaults, ...(httpAgent as AgentOptions | undefined) },
    https: { ...defaults, ...(httpsAgent as AgentOptions | undefined) },
  };
  if (proxied) return new ProxyRoutingHandler(proxies, handlerOptions, agents, tls, environment?.bypass);
  return new awsSdk.nodeHttpHandler.NodeHttpHandler({ ...handlerOptions, ...httpAgents(undefined, agents, tls) });
}

/** `clientConfig.requestHandler` as NodeHttpHandler options; a ready handler or agent cannot take `verify`/`proxies`. */
function handlerOptionsOf(given: S3ClientConfig["requestHandler"]): NodeHttpHandlerOptions {
  if (given === undefined) return {};
  if (isReadyHandler(given)) {
    throw new StorageConfigError(
      "S3Storage: verify and proxies build the client's HTTP agents, but clientConfig.requestHandler brings its " +
        "own handler or agent. Pass NodeHttpHandler options instead ({ requestTimeout, httpsAgent: { maxSockets } }), " +
        "or drop verify/proxies and configure TLS and proxies on your handler.",
    );
  }
  return { ...(given as NodeHttpHandlerOptions) };
}

/** True when `clientConfig.requestHandler` is a handler, or holds an agent, rather than NodeHttpHandler options. */
function isReadyHandler(given: S3ClientConfig["requestHandler"]): boolean {
  if (given === undefined) return false;
  const options = given as NodeHttpHandlerOptions & { handle?: unknown };
  const ready = [options.httpAgent, options.httpsAgent].some(
    (agent) => typeof (agent as { destroy?: unknown } | undefined)?.destroy === "function",
  );
  return typeof given === "function" || typeof options.handle === "function" || ready;
}
