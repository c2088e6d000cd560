/**
 * `keepcache up` left running does not churn sockets: its replica-set monitor probes each
 * node every 100 ms over one kept connection, so after 60 s fewer than 50 sockets on the
 * cluster's ports are in TIME-WAIT (one connection per probe left about 1,200).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { after, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, start, stopAll } from "../../tools/procs.js";

after(() => stopAll());

/** `pid` and every process below it. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "latin1");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++)
    for (const [p, pp] of parent) if (pp === out[i] && !out.includes(p)) out.push(p);
  return out;
}

/** Ports the processes listen on, from `ss -p`. */
function listeningPorts(pids: number[]): number[] {
  const text = execFileSync("ss", ["-Htlnp"], { encoding: "utf8" });
  const ports = new Set<number>();
  for (const line of text.split("\n")) {
    if (!pids.some((p) => line.includes(`pid=${p},`))) continue;
    const local = line.trim().split(/\s+/)[3] ?? "";
    ports.add(Number(local.slice(local.lastIndexOf(":") + 1)));
  }
  return [...ports];
}

function timeWait(ports: number[]): string[] {
  const filter = ports.map((p) => `sport = :${p} or dport = :${p}`).join(" or ");
  const text = execFileSync("ss", ["-Htan", "state", "time-wait", `( ${filter} )`], {
    encoding: "utf8",
  });
  return text.split("\n").filter((l) => l.trim() !== "");
}

test("keepcache up for 60 s leaves fewer than 50 sockets in TIME-WAIT", {
  timeout: 120_000,
}, async () => {
  const [port, adminPort] = await freePorts(2);
  const up = await start(
    process.execPath,
    [keepcacheBin(), "up", "--port", String(port), "--admin", `127.0.0.1:${adminPort}`],
    { port, env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" } },
  );
  const pid = up.child.pid as number;
  // Both nodes, the proxy and the admin listeners (the nodes' own admin and replication too).
  let ports: number[] = [];
  for (let i = 0; i < 50 && ports.length < 8; i++) {
    await new Promise((r) => setTimeout(r, 200));
    ports = listeningPorts(tree(pid));
  }
  assert.ok(ports.includes(port) && ports.includes(adminPort), `${ports}`);
  assert.ok(ports.length >= 4, `listening: ${ports}`);
  await new Promise((r) => setTimeout(r, 60_000));
  const tw = timeWait(ports);
  assert.ok(tw.length < 50, `${tw.length} sockets in TIME-WAIT on ${ports}`);
  await up.stop("SIGINT");
});
