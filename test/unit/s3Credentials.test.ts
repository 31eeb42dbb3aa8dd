import { S3Credentials } from "../../src/drivers/s3/S3Credentials";

describe("S3Credentials", () => {
  afterEach(() => jest.useRealTimers());

  it("refreshes temporary credentials 5 minutes before they expire, until closed", async () => {
    jest.useFakeTimers({ doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    let calls = 0;
    const credentials = new S3Credentials(async () => {
      calls++;
      return { accessKeyId: `ASIA${calls}`, secretAccessKey: "S", expiration: new Date(Date.now() + 3600_000) };
    }, null);
    await credentials.ready();
    await jest.advanceTimersByTimeAsync(55 * 60_000 - 1000);
    expect(calls).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(credentials.current("s").accessKeyId).toBe("ASIA2");
    credentials.close();
    await jest.advanceTimersByTimeAsync(3600_000);
    expect(calls).toBe(2);
  });
});
