import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import net from "node:net";
import path from "node:path";

/** A server started by a test; `close()` also ends kept-alive and tunnelled connections. */
export interface TestServer {
  /** `http://127.0.0.1:port` or `https://127.0.0.1:port`. */
  url: string;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, as PEM files in `directory`. */
export interface TestCertificate {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/**
 * Writes a self-signed certificate (P-256, one day) for 127.0.0.1 and localhost into `directory` with
 * the `openssl` CLI. Throws, saying so, when openssl is not installed.
 */
export function selfSignedCertificate(directory: string, name = "server"): TestCertificate {
  const certPath = path.join(directory, `${name}.crt`);
  const keyPath = path.join(directory, `${name}.key`);
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
        "-days",
        "1",
        "-subj",
        `/CN=typeorm-storages test ${name}`,
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ],
      { stdio: "pipe" },
    );
  } catch (error) {
    throw new Error("These tests make a self-signed certificate with the openssl CLI; install openssl.", {
      cause: error,
    });
  }
  return { certPath, keyPath, cert: fs.readFileSync(certPath, "utf8"), key: fs.readFileSync(keyPath, "utf8") };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Forwards `req` to `target` unchanged (Host included, so SigV4 signatures still match) and pipes back the answer. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL, agent: http.Agent): void {
  const headers = { ...req.headers };
  delete headers["proxy-connection"];
  delete headers["proxy-authorization"];
  const upstream = http.request(target, { method: req.method, headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
}

/**
 * An HTTPS server with `certificate` in front of the plain-http S3 server at `upstream`: a reverse proxy
 * that forwards every request as it came, so S3 verifies the client's signatures for this host.
 */
export async function startTlsReverseProxy(certificate: TestCertificate, upstream: string): Promise<TestServer> {
  const agent = new http.Agent({ keepAlive: true });
  const base = new URL(upstream);
  const server = https.createServer({ cert: certificate.cert, key: certificate.key }, (req, res) =>
    forward(req, res, new URL(`${base.pathname.replace(/\/$/, "")}${req.url}`, base.origin), agent),
  );
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that rejects the certificate leaves without a request; that is not a server error.
  server.on("tlsClientError", () => {});
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}`,
    async close() {
      await closeServer(server, sockets);
      agent.destroy();
    },
  };
}

/** A forward proxy that counts what it carried. */
export interface TestForwardProxy extends TestServer {
  /** Absolute-URI requests forwarded (http targets), as `METHOD url`. */
  readonly forwarded: string[];
  /** CONNECT tunnels opened (https targets), as `host:port`. */
  readonly tunnels: string[];
  /** Client connections accepted (kept-alive ones carry several requests). */
  readonly connections: number;
}

/**
 * A tiny HTTP forward proxy: absolute-URI requests for http targets, CONNECT tunnels for https ones,
 * each recorded. Reaches only what the test process can reach.
 */
export async function startForwardProxy(): Promise<TestForwardProxy> {
  const forwarded: string[] = [];
  const tunnels: string[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    if (!/^http:\/\//.test(req.url ?? "")) {
      res.writeHead(400).end("a forward proxy takes absolute URIs");
      return;
    }
    forwarded.push(`${req.method} ${req.url}`);
    forward(req, res, new URL(req.url as string), agent);
  });
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  let connections = 0;
  server.on("connection", (socket: net.Socket) => {
    connections++;
    track(socket);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    const { hostname, port } = new URL(`http://${req.url}`);
    const upstream = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ""), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    tunnels,
    get connections() {
      return connections;
    },
    async close() {
      await closeServer(server, sockets);
      agent.destroy();
    },
  };
}
