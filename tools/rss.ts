/** A process's memory as the kernel counts it, for tests and benches that bound the proxy's. */
import { readFileSync } from "node:fs";

/** VmRSS (now) and VmHWM (peak) of a process, in bytes (/proc/PID/status, kB). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "latin1");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(s)?.[1]);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

/** Samples a process's RSS every `everyMs` until stop(): its RSS at start, the sampled peak, VmHWM. */
export function sampleRss(
  pid: number,
  everyMs = 10,
): { stop: () => { idle: number; peak: number; hwm: number } } {
  const idle = memoryOf(pid).rss;
  let peak = idle;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const now = memoryOf(pid);
      return { idle, peak: Math.max(peak, now.rss), hwm: now.hwm };
    },
  };
}
