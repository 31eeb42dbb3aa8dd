import net from "node:net";
import { readConfig } from "../src/config";
import { startApp } from "./support/appProcess";

/** The start-up failure `startApp` reports for `env`: the app's last words before exiting. */
async function failure(env: Record<string, string>): Promise<string> {
  const error = await startApp(env).then(
    async (app) => {
      await app.stop();
      throw new Error("the app started");
    },
    (error: Error) => error,
  );
  expect(error.message).toMatch(/exited with code 1 before listening/);
  return /Could not start the example app: (.*)/.exec(error.message)?.[1] ?? error.message;
}

describe("starting the app", () => {
  test("refuses a PORT past 65535, naming it", () => {
    expect(() => readConfig({ PORT: "70000" })).toThrow('PORT must be a port number from 0 to 65535, not "70000".');
  });

  test("says when PORT is taken, and what to do", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      expect(await failure({ PORT: String(port) })).toBe(
        `PORT ${port} is already in use on 127.0.0.1 (another program, or the app running already): stop it, or set PORT to a free port (PORT=0 picks one).`,
      );
    } finally {
      blocker.close();
    }
  });

  test("says when HOST is not an address of this machine, naming it", async () => {
    expect(await failure({ HOST: "no-such-host.invalid" })).toMatch(
      /^HOST "no-such-host\.invalid" is not an address this machine can listen on \(getaddrinfo ENOTFOUND no-such-host\.invalid\); /,
    );
  });

  test("says when the database at DATABASE_URL cannot be reached, naming the variable and not its password", async () => {
    const message = await failure({ DATABASE_URL: "postgres://app:s3cret@127.0.0.1:1/media" });
    expect(message).toMatch(
      /^Could not connect to the PostgreSQL database at DATABASE_URL \(127\.0\.0\.1:1\): .*ECONNREFUSED/,
    );
    expect(message).not.toContain("s3cret");
  });
});
