/** A process's memory as the kernel counts it, for tests and benches that bound the proxy's. */
import { readFileSync } from "node:fs";

/** VmRSS (now) and VmHWM (peak) of a process, in bytes (/proc/PID/status, kB). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "latin1");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(s)?.[1]);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}
