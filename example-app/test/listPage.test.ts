import { type AppProcess, startApp } from "./support/appProcess";

/** Posts an upload through the app's form endpoint, as a browser without JavaScript does. */
async function post(app: AppProcess, title: string): Promise<void> {
  const form = new FormData();
  form.set("title", title);
  form.set("visibility", "public");
  form.set("file", new Blob([`the file of ${title}`]), "note.txt");
  const response = await fetch(`${app.url}/upload`, { method: "POST", body: form, redirect: "manual" });
  expect(response.status).toBe(303);
}

const titles = (html: string) => [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((match) => match[1]);

describe("the list page", () => {
  let app: AppProcess;
  beforeAll(async () => {
    app = await startApp({});
    for (let n = 1; n <= 55; n++) await post(app, `upload ${n}`);
  }, 120000);
  afterAll(async () => {
    await app?.stop();
  });

  test("shows the newest 50 uploads and links the older ones, page by page", async () => {
    const first = await (await fetch(app.url)).text();
    expect(titles(first)).toEqual(Array.from({ length: 50 }, (_, i) => `upload ${55 - i}`));
    expect(first).toContain('href="/?page=2"');

    const second = await (await fetch(`${app.url}/?page=2`)).text();
    expect(titles(second)).toEqual(["upload 5", "upload 4", "upload 3", "upload 2", "upload 1"]);
    expect(second).toContain('href="/?page=1"');
    expect(second).not.toContain('href="/?page=3"');
  });

  test("answers a page number that is not one with a 404 page, and a page past the end with a link back", async () => {
    for (const page of ["0", "-1", "abc", "1.5", "1e3", "99999999999999999999"]) {
      const response = await fetch(`${app.url}/?page=${page}`);
      expect([page, response.status]).toEqual([page, 404]);
      expect(await response.text()).toContain("There is no page at this address.");
    }
    const past = await (await fetch(`${app.url}/?page=9`)).text();
    expect(titles(past)).toEqual([]);
    expect(past).toContain('No uploads on this page. <a href="/">Back to the newest uploads</a>');
  });
});
