/**
 * Throwaway network labs for VRRP e2e tests: a namespace holding a bridge, one namespace per
 * host (eth0 on a veth whose peer is a bridge port) and a client namespace, all on
 * 10.213.<net>.0/24. Nothing is created in the root namespace. Names carry our pid so a later
 * run can remove what a killed run left behind (removeLeftovers) without touching a parallel
 * run's lab.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { captureOutput, keepcacheBin, pidAlive } from "./procs.js";

const run = promisify(execFile);
const PREFIX = "kcv";
let seq = 0;

export interface LabHost {
  ns: string;
  ip: string;
  dev: string;
}

export interface Lab {
  id: string;
  bridgeNs: string;
  hosts: LabHost[];
  client: LabHost;
  /** 10.213.<net>.<last>: an address on the lab's subnet (for VIPs). */
  addr(last: number): string;
  /** Runs a command inside `ns`; resolves with its output (rejects on a non-zero exit). */
  exec(ns: string, cmd: string, args: string[]): Promise<string>;
  /** Starts a long-running command inside `ns`; killed by destroy(). */
  spawn(ns: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): LabProc;
  /** Whether `ip` is configured on `dev` in `ns`. */
  hasAddr(ns: string, ip: string, dev?: string): Promise<boolean>;
  destroy(): Promise<void>;
}

export interface LabProc {
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function ip(args: string[]): Promise<string> {
  return (await run("ip", args, { timeout: 10_000 })).stdout;
}

/** Pids of processes living in `ns` (ip netns pids). */
async function pidsIn(ns: string): Promise<number[]> {
  try {
    return (await ip(["netns", "pids", ns])).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function deleteNs(ns: string): Promise<void> {
  for (const pid of await pidsIn(ns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await ip(["netns", "del", ns]).catch(() => {});
}

/** Removes namespaces of earlier runs whose process is gone. */
export async function removeLeftovers(): Promise<void> {
  const list = (await ip(["netns", "list"]).catch(() => ""))
    .split("\n")
    .map((l) => l.split(/\s+/)[0])
    .filter((n) => n?.startsWith(PREFIX));
  for (const ns of list) {
    const pid = Number(/^kcv(\d+)-/.exec(ns)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) await deleteNs(ns);
  }
}

/** Creates a lab with `hostCount` hosts plus a client; `net` picks 10.213.<net>.0/24. */
export async function createLab(hostCount: number, net = 1): Promise<Lab> {
  await removeLeftovers();
  const id = `${PREFIX}${process.pid}-${++seq}`;
  const bridgeNs = `${id}-br`;
  const made: string[] = [];
  const procs = new Set<LabProc>();
  const addr = (last: number) => `10.213.${net}.${last}`;
  const lab: Lab = {
    id,
    bridgeNs,
    hosts: [],
    client: { ns: `${id}-c`, ip: addr(200), dev: "eth0" },
    addr,
    async exec(ns, cmd, args) {
      return (await run("ip", ["netns", "exec", ns, cmd, ...args], { timeout: 20_000 })).stdout;
    },
    spawn(ns, cmd, args, env) {
      const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: env ?? process.env,
      });
      const output = captureOutput(child);
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        child.once("exit", () => resolve());
      });
      const p: LabProc = {
        child,
        output,
        exited,
        async kill(signal = "SIGKILL") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(t);
          procs.delete(p);
        },
      };
      procs.add(p);
      return p;
    },
    async hasAddr(ns, ipAddr, dev = "eth0") {
      const out = await ip(["-n", ns, "-o", "addr", "show", "dev", dev]).catch(() => "");
      return out.includes(` ${ipAddr}/`);
    },
    async destroy() {
      await Promise.all([...procs].map((p) => p.kill("SIGKILL")));
      for (const ns of made.reverse()) await deleteNs(ns);
    },
  };
  try {
    await ip(["netns", "add", bridgeNs]);
    made.push(bridgeNs);
    await ip(["-n", bridgeNs, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", bridgeNs, "link", "set", "br0", "up"]);
    const all: LabHost[] = [];
    for (let i = 1; i <= hostCount; i++)
      all.push({ ns: `${id}-h${i}`, ip: addr(10 + i), dev: "eth0" });
    all.push(lab.client);
    for (const [i, h] of all.entries()) {
      await ip(["netns", "add", h.ns]);
      made.push(h.ns);
      const port = `p${i}`;
      await ip([
        ...["-n", bridgeNs, "link", "add", port, "type", "veth"],
        ...["peer", "name", h.dev, "netns", h.ns],
      ]);
      await ip(["-n", bridgeNs, "link", "set", port, "master", "br0", "up"]);
      await ip(["-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", h.dev]);
      await ip(["-n", h.ns, "link", "set", h.dev, "up"]);
      await ip(["-n", h.ns, "link", "set", "lo", "up"]);
    }
    lab.hosts = all.slice(0, hostCount);
    return lab;
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** Polls `fn` every `everyMs` until it returns true; returns the ms it took, or -1 on timeout. */
export async function waitFor(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < 100_000; i++) {
    if (await fn()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return -1;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return -1;
}

/** `keepcache vrrp -c <file>` (compiled dist/) inside `ns`, with `yaml` written to `file`. */
export function startKeepcacheVrrp(lab: Lab, ns: string, file: string, yaml: string): LabProc {
  writeFileSync(file, yaml);
  return lab.spawn(ns, process.execPath, [keepcacheBin(), "vrrp", "-c", file], {
    ...process.env,
    KEEPCACHE_LOG_FORMAT: "pretty",
  });
}

/**
 * keepalived in the foreground, VRRP only, logging to the console; its pid files in `dir`.
 * -R: no respawn, so killing the VRRP child really silences it.
 */
export function startKeepalived(lab: Lab, ns: string, dir: string, conf: string): LabProc {
  const f = join(dir, `${ns}-keepalived.conf`);
  writeFileSync(f, conf);
  const pid = (n: string) => join(dir, `${ns}-${n}.pid`);
  return lab.spawn(ns, "keepalived", [
    ...["-n", "-l", "-D", "-P", "-R", "-f", f],
    ...["-p", pid("main"), "-r", pid("vrrp"), "-c", pid("checkers")],
  ]);
}

/** A TCP server on 0.0.0.0:`port` in `ns` answering every connection with `name`. */
export function startEcho(lab: Lab, ns: string, port: number, name: string): LabProc {
  const code = `require("node:net").createServer((s)=>s.end(${JSON.stringify(name)})).listen(${port},"0.0.0.0")`;
  return lab.spawn(ns, process.execPath, ["-e", code]);
}

/** From the client namespace: connects to ip:port, returns what the server said ("" on failure). */
export async function probe(lab: Lab, ipAddr: string, port: number): Promise<string> {
  const code = `const s=require("node:net").connect(${port},${JSON.stringify(ipAddr)});let d="";s.setTimeout(400,()=>s.destroy());s.on("data",(b)=>d+=b);s.on("close",()=>process.stdout.write(d));s.on("error",()=>{})`;
  return lab.exec(lab.client.ns, process.execPath, ["-e", code]).catch(() => "");
}

/**
 * Samples which namespaces hold `vip` every `everyMs` and reports the longest stretch during
 * which two or more held it (from the first such sample to the first sample after it).
 */
export class VipSampler {
  private stopped = false;
  private longest = 0;
  private since: number | undefined;
  private loop: Promise<void>;
  samples = 0;

  constructor(lab: Lab, nss: string[], vip: string, everyMs = 50) {
    this.loop = (async () => {
      for (let i = 0; i < 1_000_000 && !this.stopped; i++) {
        const t = performance.now();
        const held = await Promise.all(nss.map((ns) => lab.hasAddr(ns, vip)));
        this.samples++;
        const both = held.filter(Boolean).length > 1;
        if (both) this.since ??= t;
        else if (this.since !== undefined) {
          this.longest = Math.max(this.longest, t - this.since);
          this.since = undefined;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - t))));
      }
    })();
  }

  /** Stops sampling; returns the longest dual-master stretch in ms. */
  async stop(): Promise<number> {
    this.stopped = true;
    await this.loop;
    if (this.since !== undefined)
      this.longest = Math.max(this.longest, performance.now() - this.since);
    return this.longest;
  }
}

/** Master_Down_Interval in ms: RFC 5798 §6.1 (v3) or RFC 3768 §6.1 (v2, skew in seconds). */
export function masterDownMs(priority: number, advertS: number, version: 2 | 3 = 3): number {
  const skew = ((256 - priority) * (version === 3 ? advertS : 1) * 1000) / 256;
  return 3 * advertS * 1000 + skew;
}
