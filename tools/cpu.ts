/** A process's CPU time as the kernel counts it, for benches that compare proxies' cost per request. */
import { readFileSync } from "node:fs";

/**
 * USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux architecture the project runs
 * on (proc(5): "sysconf(_SC_CLK_TCK)"; x86 and arm64 fix it at 100).
 */
const TICKS_PER_SECOND = 100;

/**
 * User and system CPU of a process and all its threads so far, in microseconds (proc(5)
 * /proc/PID/stat fields 14 utime and 15 stime, counted after the ')' that ends the command
 * name, which may itself hold spaces). Resolution: 10 ms.
 */
export function cpuOf(pid: number): { user: number; system: number } {
  return parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
}

/** utime and stime of a /proc/PID/stat line, in microseconds. */
export function parseStat(s: string): { user: number; system: number } {
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  // f[0] is field 3 (state), so field n is f[n - 3].
  const us = 1_000_000 / TICKS_PER_SECOND;
  return { user: Number(f[11]) * us, system: Number(f[12]) * us };
}
