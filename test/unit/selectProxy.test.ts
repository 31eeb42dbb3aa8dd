import { environmentProxies } from "../../src/drivers/s3/environmentProxies";
import { proxyUrl, selectProxy } from "../../src/drivers/s3/selectProxy";

const https = (hostname: string, port?: number) => ({ protocol: "https:", hostname, port });
const http = (hostname: string, port?: number) => ({ protocol: "http:", hostname, port });

describe("selectProxy", () => {
  it("connects directly without proxies, or when only the other scheme has one", () => {
    expect(selectProxy({}, https("s3.amazonaws.com"))).toBeUndefined();
    expect(selectProxy({ http: "http://p:1" }, https("s3.amazonaws.com"))).toBeUndefined();
    expect(selectProxy({ "https://minio": "http://p:1" }, http("minio"))).toBeUndefined();
  });

  it("takes the scheme key for any host of that scheme", () => {
    expect(selectProxy({ https: "http://p:1", http: "http://q:2" }, https("s3.eu-west-1.amazonaws.com"))).toBe(
      "http://p:1",
    );
    expect(selectProxy({ https: "http://p:1", http: "http://q:2" }, http("minio", 9000))).toBe("http://q:2");
  });

  it("prefers a scheme://host key to the scheme key, on any port when the key has none", () => {
    const proxies = { http: "http://scheme:1", "http://minio.internal": "http://host:2" };
    expect(selectProxy(proxies, http("minio.internal", 9000))).toBe("http://host:2");
    expect(selectProxy(proxies, http("other.internal", 9000))).toBe("http://scheme:1");
  });

  it("matches a key with a port on that port only", () => {
    const proxies = { http: "http://scheme:1", "http://minio:9000": "http://port:2", "http://minio": "http://host:3" };
    expect(selectProxy(proxies, http("minio", 9000))).toBe("http://port:2");
    expect(selectProxy(proxies, http("minio", 9001))).toBe("http://host:3");
  });

  it("covers subdomains of a host key, such as virtual-hosted buckets, the closest host first", () => {
    const proxies = {
      "https://amazonaws.com": "http://aws:1",
      "https://s3.eu-west-1.amazonaws.com": "http://regional:2",
    };
    expect(selectProxy(proxies, https("media.s3.eu-west-1.amazonaws.com"))).toBe("http://regional:2");
    expect(selectProxy(proxies, https("media.s3.us-east-1.amazonaws.com"))).toBe("http://aws:1");
    expect(selectProxy(proxies, https("notamazonaws.com"))).toBeUndefined();
  });

  it("compares case-insensitively and understands IP addresses", () => {
    expect(selectProxy({ "HTTPS://S3.Example.COM": "http://p:1" }, https("s3.example.com"))).toBe("http://p:1");
    expect(selectProxy({ "http://127.0.0.1": "http://p:1" }, http("127.0.0.1", 7480))).toBe("http://p:1");
    expect(selectProxy({ "http://[::1]:7480": "http://p:1" }, http("::1", 7480))).toBe("http://p:1");
    expect(selectProxy({ "http://0.1": "http://p:1" }, http("127.0.0.1"))).toBeUndefined();
  });

  it("reads a proxy without scheme as http://, like botocore", () => {
    expect(proxyUrl("proxy.internal:3128")).toBe("http://proxy.internal:3128");
    expect(proxyUrl("https://proxy.internal:3129")).toBe("https://proxy.internal:3129");
    expect(selectProxy({ https: "proxy:3128" }, https("s3.amazonaws.com"))).toBe("http://proxy:3128");
  });
});

describe("environmentProxies", () => {
  it("reads nothing without a proxy variable", () => {
    expect(environmentProxies({ NO_PROXY: "*" })).toBeNull();
  });

  it("takes HTTPS_PROXY and HTTP_PROXY by scheme, lower-case first, and HTTP_PROXY not under CGI", () => {
    expect(
      environmentProxies({ HTTPS_PROXY: "p:1", http_proxy: "http://q:2", HTTP_PROXY: "http://r:3" })?.proxies,
    ).toEqual({
      https: "p:1",
      http: "http://q:2",
    });
    expect(environmentProxies({ HTTP_PROXY: "http://r:3", REQUEST_METHOD: "POST" })).toBeNull();
    expect(environmentProxies({ http_proxy: "http://r:3", REQUEST_METHOD: "POST" })?.proxies).toEqual({
      http: "http://r:3",
    });
  });

  it("exempts the NO_PROXY hosts and their subdomains, with or without a port, never a mere suffix", () => {
    const { bypass } = environmentProxies({ HTTPS_PROXY: "p:1", NO_PROXY: " .Example.com, minio:9000,10.0.0.1" }) ?? {
      bypass: () => false,
    };
    expect(bypass("example.com", "443")).toBe(true);
    expect(bypass("bucket.s3.example.com", "443")).toBe(true);
    expect(bypass("badexample.com", "443")).toBe(false);
    expect(bypass("minio", "9000")).toBe(true);
    expect(bypass("minio", "9001")).toBe(false);
    expect(bypass("10.0.0.1", "80")).toBe(true);
    expect(bypass("s3.amazonaws.com", "443")).toBe(false);
    expect(environmentProxies({ HTTPS_PROXY: "p:1", no_proxy: "*" })?.bypass("s3.amazonaws.com", "443")).toBe(true);
  });
});
