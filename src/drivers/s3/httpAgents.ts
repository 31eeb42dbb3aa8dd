import type { AgentOptions, ClientRequest } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { ConnectionOptions } from "node:tls";
import type { NodeHttpHandlerOptions } from "@smithy/node-http-handler";
import type { HttpProxyAgent as HttpProxyAgentClass } from "http-proxy-agent";
import type { HttpsProxyAgent as HttpsProxyAgentClass } from "https-proxy-agent";

type TunnelOptions = Parameters<HttpsProxyAgentClass<string>["connect"]>[1];

/** The agents of one `NodeHttpHandler`: `httpAgent` for http targets, `httpsAgent` for https ones. */
export type HttpAgents = Required<Pick<NodeHttpHandlerOptions, "httpAgent" | "httpsAgent">>;

/** Agent options (keep-alive, maxSockets…) for http and for https targets. */
export interface AgentSettings {
  http: AgentOptions;
  https: AgentOptions;
}

/**
 * The keep-alive agents that reach S3 directly (`proxy` undefined) or through the HTTP(S) proxy at
 * `proxy`: https targets through a CONNECT tunnel (`https-proxy-agent`), http targets with absolute-URI
 * requests (`http-proxy-agent`). `tls` (from `verify`) applies to the TLS session with S3; an https
 * proxy itself is verified with Node's defaults. Throws what the proxy packages throw for a bad URL.
 */
export function httpAgents(
  proxy: string | undefined,
  settings: AgentSettings,
  tls: ConnectionOptions | null,
): HttpAgents {
  if (proxy === undefined) {
    // Plain options let NodeHttpHandler build the SDK's own agents; an instance only when TLS differs.
    const httpsAgent = tls === null ? settings.https : new HttpsAgent({ ...settings.https, ...tls });
    return { httpAgent: settings.http, httpsAgent };
  }
  // Loaded on first use: only storages with proxies pay for them. Pinned to the 7.x line, a
  // CommonJS one: 9.x is ES-module-only, which Jest (the usual test runner of apps using this) cannot require.
  const { HttpProxyAgent } = require("http-proxy-agent") as { HttpProxyAgent: typeof HttpProxyAgentClass };
  const { HttpsProxyAgent } = require("https-proxy-agent") as { HttpsProxyAgent: typeof HttpsProxyAgentClass };
  let httpsAgent: HttpsProxyAgentClass<string>;
  if (tls === null) httpsAgent = new HttpsProxyAgent(proxy, settings.https);
  else {
    // https-proxy-agent starts TLS with the target from the request's options alone (it resets its own
    // `options`), so the CA bundle or `rejectUnauthorized` is added at that step.
    class VerifyingHttpsProxyAgent extends HttpsProxyAgent<string> {
      override connect(req: ClientRequest, opts: TunnelOptions) {
        return super.connect(req, { ...opts, ...tls });
      }
    }
    httpsAgent = new VerifyingHttpsProxyAgent(proxy, settings.https);
  }
  // NodeHttpHandler only destroys the agent and hands it to https.request, which takes any http.Agent.
  return { httpAgent: new HttpProxyAgent(proxy, settings.http), httpsAgent: httpsAgent as unknown as HttpsAgent };
}
