/** Small helpers every check uses to build a CheckResult with its latency. */
import type { CheckResult } from "../types.js";

export function stopwatch(): () => number {
  const t0 = performance.now();
  return () => Math.round((performance.now() - t0) * 100) / 100;
}

export function pass(elapsed: () => number, detail: string, weight?: number): CheckResult {
  return weight === undefined
    ? { ok: true, detail, latencyMs: elapsed() }
    : { ok: true, detail, weight, latencyMs: elapsed() };
}

export function fail(elapsed: () => number, detail: string): CheckResult {
  return { ok: false, detail, latencyMs: elapsed() };
}

/** Why a check stopped early: the prober aborts with a timeout reason, stop() with another. */
export function abortDetail(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name === "TimeoutError") return "timeout";
  return r instanceof Error ? `aborted: ${r.message}` : "aborted";
}
