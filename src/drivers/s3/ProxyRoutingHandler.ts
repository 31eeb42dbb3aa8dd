import type { ConnectionOptions } from "node:tls";
import type { NodeHttpHandler, NodeHttpHandlerOptions } from "@smithy/node-http-handler";
import { awsSdk } from "./awsSdk";
import { type AgentSettings, httpAgents } from "./httpAgents";
import { selectProxy } from "./selectProxy";

type HttpRequest = Parameters<NodeHttpHandler["handle"]>[0];
type HttpHandlerOptions = Parameters<NodeHttpHandler["handle"]>[1];

/**
 * The SDK request handler of a storage with `proxies`: each request goes through the proxy
 * `selectProxy` picks for its scheme and host, or directly when none matches, as botocore chooses per
 * request URL. Every route is its own `NodeHttpHandler` with keep-alive agents, built on first use and
 * reused, so a proxied storage pools connections like the SDK's default handler.
 */
export class ProxyRoutingHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly #proxies: Readonly<Record<string, string>>;
  readonly #agents: AgentSettings;
  readonly #tls: ConnectionOptions | null;
  readonly #bypass: ((hostname: string, port: string) => boolean) | undefined;
  #handlerOptions: NodeHttpHandlerOptions;
  /** Handlers by proxy URL ("" for direct). */
  readonly #routes = new Map<string, NodeHttpHandler>();
  /** The proxy URL ("" for direct) chosen for each `protocol//host:port` seen. */
  readonly #choices = new Map<string, string>();

  /**
   * `handlerOptions` are NodeHttpHandler options without agents (timeouts, logger); `agents`
   * (keep-alive, maxSockets) and `tls` (from `verify`) shape every route's agents. `bypass` names the
   * hosts reached directly whatever `proxies` say (`NO_PROXY`).
   */
  constructor(
    proxies: Readonly<Record<string, string>>,
    handlerOptions: NodeHttpHandlerOptions,
    agents: AgentSettings,
    tls: ConnectionOptions | null,
    bypass?: (hostname: string, port: string) => boolean,
  ) {
    this.#proxies = proxies;
    this.#bypass = bypass;
    this.#handlerOptions = handlerOptions;
    this.#agents = agents;
    this.#tls = tls;
  }

  /** Sends `request` on its route; rejects as NodeHttpHandler does (a refused CONNECT is an HTTP error). */
  handle(request: HttpRequest, options?: HttpHandlerOptions): ReturnType<NodeHttpHandler["handle"]> {
    return this.#route(request).handle(request, options);
  }

  /** Changes one NodeHttpHandler option on every route, present and future. */
  updateHttpClientConfig(key: keyof NodeHttpHandlerOptions, value: NodeHttpHandlerOptions[typeof key]): void {
    this.#handlerOptions = { ...this.#handlerOptions, [key]: value };
    for (const handler of this.#routes.values()) handler.updateHttpClientConfig(key, value);
  }

  /** The NodeHttpHandler options every route is built with. */
  httpHandlerConfigs(): NodeHttpHandlerOptions {
    return { ...this.#handlerOptions };
  }

  /** Closes every route's pooled connections. */
  destroy(): void {
    for (const handler of this.#routes.values()) handler.destroy();
    this.#routes.clear();
  }

  #route(request: HttpRequest): NodeHttpHandler {
    const origin = `${request.protocol}//${request.hostname}:${request.port ?? ""}`;
    let proxy = this.#choices.get(origin);
    if (proxy === undefined) {
      const port = String(request.port ?? (request.protocol === "https:" ? 443 : 80));
      proxy = this.#bypass?.(request.hostname, port) ? "" : (selectProxy(this.#proxies, request) ?? "");
      this.#choices.set(origin, proxy);
    }
    let handler = this.#routes.get(proxy);
    if (handler === undefined) {
      const agents = httpAgents(proxy === "" ? undefined : proxy, this.#agents, this.#tls);
      handler = new awsSdk.nodeHttpHandler.NodeHttpHandler({ ...this.#handlerOptions, ...agents });
      this.#routes.set(proxy, handler);
    }
    return handler;
  }
}
