import http from "node:http";
import { type AppProcess, startApp } from "./support/appProcess";

/** A form post whose body the test sends in two halves, with time between them. */
function slowUpload(url: string, title: string, content: Buffer) {
  const boundary = "----shutdown-test";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n${title}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="visibility"\r\n\r\npublic\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\n` +
      "Content-Type: text/plain\r\n\r\n",
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = Buffer.concat([head, content, tail]);
  const half = head.length + Math.floor(content.length / 2);
  const request = http.request(`${url}/upload`, {
    method: "POST",
    agent: false,
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": body.length },
  });
  const response = new Promise<number>((resolve, reject) => {
    request.once("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    request.once("error", reject);
  });
  request.write(body.subarray(0, half));
  return { response, finish: () => request.end(body.subarray(half)) };
}

describe("stopping the app", () => {
  let app: AppProcess | undefined;
  let restarted: AppProcess | undefined;
  afterEach(async () => {
    await restarted?.stop();
    await app?.stop();
  });

  test("lets an upload in flight at SIGTERM finish, so its file keeps its row", async () => {
    app = await startApp({});
    const content = Buffer.from("x".repeat(256 * 1024));
    const upload = slowUpload(app.url, "sent while stopping", content);
    await new Promise((resolve) => setTimeout(resolve, 300));
    app.signal("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    upload.finish();

    expect(await upload.response).toBe(303);
    expect(await app.exited).toBe(0);
    // the next start, on the same data, lists the upload and serves its file
    restarted = await startApp({ DATA_DIR: app.dataDir });
    const page = await (await fetch(restarted.url)).text();
    expect(page).toContain("sent while stopping");
    const link = /href="(\/media\/[^"]+slow[^"]*\.txt)"/.exec(page)?.[1];
    expect(link).toBeDefined();
    const file = await fetch(`${restarted.url}${link}`);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(content.length);
  }, 60000);
});
