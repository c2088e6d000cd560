/**
 * `workers: 2` with the admin plane and logging (compiled CLI): the admin status lists the
 * worker processes (pids as the kernel sees them), a server's in-flight requests held in both
 * processes show as one total on the stats port, /metrics and the dashboard's drain figure,
 * and the workers log at the primary's level (-v, or the config's `log.level`).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { StatusDocument } from "../../src/admin/status.js";
import { freePorts, waitForPort } from "../../tools/ports.js";
import { startRun, suiteDir, until } from "../helpers/keepcache-run.js";
import { parsePrometheusText, sampleValue } from "../unit/admin/prom-text.js";
import {
  acceptedBy,
  logRecords,
  mcClient,
  numbers,
  openSpread,
  statsDoc,
  stopProxy,
} from "./proxy-workers-helpers.js";

/** A backend that accepts and never answers: every request sent to it stays in flight. */
const holes: net.Server[] = [];
const sockets: net.Socket[] = [];
const dir = suiteDir("kc-pwa-", async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(holes.map((h) => new Promise((r) => h.close(r))));
});

async function blackHole(port: number): Promise<void> {
  const srv = net.createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
  });
  holes.push(srv);
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", () => r()));
}

function conf(listen: number, backend: number, admin: number, extra: string[] = []): string {
  return [
    "workers: 2",
    ...extra,
    "admin:",
    `  listen: 127.0.0.1:${admin}`,
    "pools:",
    "  alpha:",
    `    listen: 127.0.0.1:${listen}`,
    "    servers:",
    `      - 127.0.0.1:${backend}:1 hole`,
    "",
  ].join("\n");
}

async function runWith(name: string, yaml: string, args: string[], ports: number[]) {
  const [listen, stats, admin] = ports;
  // The level must come from -v or the file, not from an inherited override.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KEEPCACHE_LOG_LEVEL;
  const proc = await startRun(join(dir, name), yaml, { listen, stats, args, env });
  await waitForPort(admin, "127.0.0.1", 8000);
  return proc;
}

async function status(admin: number): Promise<StatusDocument> {
  const r = await fetch(`http://127.0.0.1:${admin}/api/v1/status`, {
    signal: AbortSignal.timeout(3000),
  });
  return (await r.json()) as StatusDocument;
}

/** Children of `pid` as the kernel lists them. */
function childrenOf(pid: number): number[] {
  const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "latin1" });
  return out
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

describe("proxy workers: admin status, queue totals, log level", () => {
  test("-v: status lists the worker; in-flight totals over both processes everywhere", async () => {
    const ports = await freePorts(4);
    const [listen, stats, admin, backend] = ports;
    await blackHole(backend);
    const proc = await runWith("v.yml", conf(listen, backend, admin), ["-v"], ports);
    let workers: number[] = [];
    await until(async () => {
      workers = (await status(admin)).processes?.proxyWorkers ?? [];
      return workers.length === 1;
    }, "the admin status to list one proxy worker");
    const doc = await status(admin);
    assert.equal(doc.processes?.pid, proc.child.pid);
    assert.deepEqual(doc.processes?.tcpWorkers, []);
    assert.deepEqual(childrenOf(proc.child.pid ?? -1), workers, "the pids are the children");
    // -v reaches the worker: its debug line, at level 20.
    await until(
      () => logRecords(proc, "proxy worker started").some((r) => r.pid === workers[0]),
      "the worker's debug record",
    );

    const conns = await openSpread(listen, 10, () => mcClient(listen));
    assert.equal(acceptedBy(listen).size, 2);
    for (const [i, c] of conns.entries()) c.write(`get k${i}\r\n`);
    const n = conns.length;
    // The stats port asks the workers first; /metrics and the dashboard take the last report
    // (every second), through the same reader.
    await until(
      async () => numbers(await statsDoc(stats), "alpha", "hole").out_queue === n,
      `out_queue ${n} on the stats port`,
    );
    await until(async () => {
      const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
      const fams = parsePrometheusText(text);
      const labels = { pool: "alpha", server: "hole" };
      return sampleValue(fams, "keepcache_proxy_server_out_queue", labels) === n;
    }, `keepcache_proxy_server_out_queue ${n}`);
    // The dashboard's drain figure counts the worker's requests too.
    const r = await fetch(`http://127.0.0.1:${admin}/api/v1/servers/alpha/hole/drain`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(3000),
    });
    const body = (await r.json()) as { message: string };
    assert.match(body.message, new RegExp(`draining \\(${n} requests in flight\\)`));
    for (const c of conns) c.close();
    await stopProxy(proc, workers);
  });

  test("log.level warn in the config: the worker logs nothing at info", async () => {
    const ports = await freePorts(4);
    const [listen, , admin, backend] = ports;
    await blackHole(backend);
    const yaml = conf(listen, backend, admin, ["log:", "  level: warn"]);
    const proc = await runWith("warn.yml", yaml, [], ports);
    let workers: number[] = [];
    await until(async () => {
      workers = (await status(admin)).processes?.proxyWorkers ?? [];
      return workers.length === 1;
    }, "the admin status to list one proxy worker");
    // Serving for sure: a connection held by the worker was answered.
    const conns = await openSpread(listen, 4, () => mcClient(listen));
    assert.ok(acceptedBy(listen).has(workers[0]));
    for (const c of conns) c.close();
    await stopProxy(proc, workers);
    const info = proc
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{") && JSON.parse(l).level < 40);
    assert.deepEqual(info, [], "no record under warn, from the primary or the worker");
  });
});
