/**
 * Virtual addresses on the host: add/remove with ip(8), announce with gratuitous ARP.
 *
 * A VIP line is keepalived's (keepalived.conf(5) "virtual_ipaddress"):
 *   <IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>]
 * with no mask meaning /32 (/128 for IPv6), as keepalived does. Adding an address that is
 * already there, or removing one that is not, succeeds (ip(8) says "File exists" / "Cannot
 * assign requested address"), so the runtime can re-apply after a crash.
 *
 * A gratuitous ARP is an ARP request with sender = target = VIP, broadcast (RFC 5227 §3,
 * "ARP Announcement"); iputils `arping -U` sends exactly that. Unsolicited neighbour
 * advertisements for IPv6 VIPs are not sent (no ndisc6 on the target systems); IPv6 VIPs are
 * added and removed only.
 */
import { execFile } from "node:child_process";
import { isIPv4, isIPv6 } from "node:net";
import { KeepcacheError } from "../errors.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { GarpSchedule } from "./state.js";

export interface Vip {
  address: string;
  prefix: number;
  family: 4 | 6;
  dev: string;
  label?: string;
  brd?: string;
  scope?: string;
}

/** Parses one virtual_ipaddress line; `defaultDev` is the instance's interface. */
export function parseVip(line: string, defaultDev: string): Vip {
  const words = line.trim().split(/\s+/);
  const [addr, mask] = (words[0] ?? "").split("/");
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) throw new KeepcacheError("KC_VRRP", `virtual_ipaddress "${line}": bad address`);
  const max = family === 4 ? 32 : 128;
  const prefix = mask === undefined ? max : Number(mask);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new KeepcacheError("KC_VRRP", `virtual_ipaddress "${line}": bad prefix /${mask}`);
  }
  const vip: Vip = { address: addr, prefix, family, dev: defaultDev };
  for (let i = 1; i < words.length; i += 2) {
    const key = words[i];
    const val = words[i + 1];
    if (val === undefined) {
      throw new KeepcacheError("KC_VRRP", `virtual_ipaddress "${line}": '${key}' needs a value`);
    }
    if (key === "dev") vip.dev = val;
    else if (key === "label") vip.label = val;
    else if (key === "brd" || key === "broadcast") vip.brd = val;
    else if (key === "scope") vip.scope = val;
    else throw new KeepcacheError("KC_VRRP", `virtual_ipaddress "${line}": unknown '${key}'`);
  }
  return vip;
}

/** The ip(8) arguments for `add` or `del` of one VIP. */
export function ipArgs(op: "add" | "del", v: Vip): string[] {
  const args = [`-${v.family}`, "addr", op, `${v.address}/${v.prefix}`, "dev", v.dev];
  if (op === "add") {
    if (v.brd) args.push("brd", v.brd);
    if (v.scope) args.push("scope", v.scope);
    if (v.label) args.push("label", v.label);
  }
  return args;
}

interface RunResult {
  code: number;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve({ code: 0, stderr: String(stderr) });
      const e = err as NodeJS.ErrnoException & { code?: number | string };
      const code = typeof e.code === "number" ? e.code : -1;
      resolve({ code, stderr: String(stderr || e.message) });
    });
  });
}

/** Adds the VIP; true when added now, false when it was already there. */
export async function addVip(v: Vip): Promise<boolean> {
  const r = await run("ip", ipArgs("add", v));
  if (r.code === 0) return true;
  if (/File exists/i.test(r.stderr)) return false;
  throw new KeepcacheError(
    r.code === 2 && /Operation not permitted/i.test(r.stderr) ? "KC_PERMISSION" : "KC_VRRP",
    `ip ${ipArgs("add", v).join(" ")}: ${r.stderr.trim()}`,
  );
}

/** Removes the VIP; true when removed now, false when it was not there. */
export async function removeVip(v: Vip): Promise<boolean> {
  const r = await run("ip", ipArgs("del", v));
  if (r.code === 0) return true;
  if (/Cannot assign requested address|Address not found|No such device/i.test(r.stderr))
    return false;
  throw new KeepcacheError("KC_VRRP", `ip ${ipArgs("del", v).join(" ")}: ${r.stderr.trim()}`);
}

/**
 * Sends `count` gratuitous ARPs for an IPv4 VIP on its device, back to back as keepalived does
 * (garp_interval 0); IPv6 is skipped (see above). iputils arping takes whole-second intervals
 * only, so each GARP is its own `arping -U -c 1`: it sends at once and then lingers ~1 s for a
 * reply that never comes. Resolves once the processes are started, not when they exit, so an
 * address change queued behind an announcement is not held up.
 */
export function sendGarp(v: Vip, count: number, onError?: (err: Error) => void): void {
  if (v.family !== 4 || count <= 0) return;
  const args = ["-q", "-U", "-c", "1", "-I", v.dev, v.address];
  for (let i = 0; i < count; i++) {
    run("arping", args, 3000).then((r) => {
      // arping -U exits 1 because no reply comes (none is expected); anything else is a failure.
      if (r.code !== 0 && r.code !== 1) {
        onError?.(new KeepcacheError("KC_VRRP", `arping ${args.join(" ")}: ${r.stderr.trim()}`));
      }
    });
  }
}

/**
 * Runs one master period's GARP schedule (state.ts GarpSchedule: bursts then an optional
 * refresh); cancel() when leaving MASTER.
 */
export class GarpTimer {
  private readonly timers = new Set<TimerHandle>();
  private cancelled = false;

  constructor(
    private readonly clock: Clock,
    private readonly announce: (count: number) => void,
  ) {}

  start(s: GarpSchedule): void {
    for (const b of s.bursts) this.at(b.afterMs, () => this.announce(b.count));
    if (s.refreshMs > 0) {
      const refresh = () => {
        this.announce(1);
        this.at(s.refreshMs, refresh);
      };
      this.at(s.refreshMs, refresh);
    }
  }

  private at(ms: number, fn: () => void): void {
    if (this.cancelled) return;
    const h = this.clock.setTimer(() => {
      this.timers.delete(h);
      if (!this.cancelled) fn();
    }, ms);
    this.timers.add(h);
  }

  cancel(): void {
    this.cancelled = true;
    for (const h of this.timers) this.clock.clearTimer(h);
    this.timers.clear();
  }
}
