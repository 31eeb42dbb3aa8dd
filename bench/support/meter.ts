import type { Measurement } from "../figure";
import { ownCpuMs, processCpuMs } from "./processCpu";
import type { RequestCounter } from "./requestCounter";

/** Wall time, requests and CPU of one timed run. */
export interface Metered {
  seconds: number;
  requests: number;
  clientCpuMs: number;
  serverCpuMs: number | null;
}

/** Runs `body` once and measures its wall time, the requests `counter` saw, and both processes' CPU. */
export async function meter(
  body: () => Promise<void>,
  counter: RequestCounter | null,
  serverPid: number | null,
): Promise<Metered> {
  const requests = counter?.count ?? 0;
  const serverCpu = processCpuMs(serverPid);
  const clientCpu = ownCpuMs();
  const start = process.hrtime.bigint();
  await body();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const serverAfter = processCpuMs(serverPid);
  return {
    seconds,
    requests: (counter?.count ?? 0) - requests,
    clientCpuMs: ownCpuMs() - clientCpu,
    serverCpuMs: serverCpu === null || serverAfter === null ? null : serverAfter - serverCpu,
  };
}

/** `value` with the run's requests and CPU divided over `ops` operations. */
export function perOp(value: number, run: Metered, ops: number, counted = true): Measurement {
  const measurement: Measurement = { value, clientCpuMs: run.clientCpuMs / ops };
  if (counted) measurement.requestsPerOp = run.requests / ops;
  if (run.serverCpuMs !== null) measurement.serverCpuMs = run.serverCpuMs / ops;
  return measurement;
}
