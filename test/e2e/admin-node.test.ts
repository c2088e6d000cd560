/**
 * `keepcache node --admin HOST:PORT`: the real CLI serves /metrics, the status API and the
 * dashboard for itself, the counters move with traffic, and shutdown is clean with a
 * dashboard stream still open.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { startNode } from "../helpers/keepcache.js";
import { RawClient } from "../helpers/line-client.js";
import { freePort, waitForPort } from "../helpers/ports.js";
import { keepcacheBin, type Proc, stopAll } from "../helpers/procs.js";
import { parsePrometheusText, sampleValue } from "../unit/admin/prom-text.js";

async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string; type: string }> {
  const ctl = AbortSignal.timeout(5000);
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: ctl });
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") ?? "" };
}

describe("keepcache node --admin", () => {
  let node: Proc & { port: number };
  let adminPort = 0;
  const name = () => `node ${node.port}`;

  before(async () => {
    adminPort = await freePort();
    node = await startNode(["--admin", `127.0.0.1:${adminPort}`]);
    await waitForPort(adminPort, "127.0.0.1", 10_000);
  });
  after(stopAll);

  test("/metrics parses strictly and node counters move after sets and gets", async () => {
    const before = parsePrometheusText((await get(adminPort, "/metrics")).body);
    const labels = { node: name() };
    const sets0 = sampleValue(before, "keepcache_node_cmd_set_total", labels);
    const hits0 = sampleValue(before, "keepcache_node_get_hits_total", labels);
    assert.equal(sets0, 0);
    assert.equal(sampleValue(before, "keepcache_store_curr_items", labels), 0);
    const c = await RawClient.connect(node.port);
    for (let i = 0; i < 20; i++)
      assert.equal(await c.call(`set k${i} 0 0 1\r\nx\r\n`), "STORED\r\n");
    for (let i = 0; i < 5; i++) await c.call(`get k${i}\r\n`, "END\r\n");
    await c.call("get missing\r\n", "END\r\n");
    c.sock.destroy();
    const r = await get(adminPort, "/metrics");
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const now = parsePrometheusText(r.body);
    assert.equal(sampleValue(now, "keepcache_node_cmd_set_total", labels), 20);
    assert.equal(sampleValue(now, "keepcache_node_get_hits_total", labels), (hits0 ?? 0) + 5);
    assert.equal(sampleValue(now, "keepcache_node_get_misses_total", labels), 1);
    assert.equal(sampleValue(now, "keepcache_store_curr_items", labels), 20);
    assert.ok((sampleValue(now, "keepcache_node_read_bytes_total", labels) ?? 0) > 0);
    assert.ok((sampleValue(now, "keepcache_store_limit_bytes", labels) ?? 0) === 64 * 1024 * 1024);
    assert.ok(now.has("process_resident_memory_bytes"));
  });

  test("/api/v1/status shows the node; / serves the dashboard", async () => {
    const doc = JSON.parse((await get(adminPort, "/api/v1/status")).body);
    assert.equal(doc.nodes.length, 1);
    const n = doc.nodes[0];
    assert.equal(n.name, name());
    assert.equal(n.address, `127.0.0.1:${node.port}`);
    assert.equal(n.up, true);
    assert.equal(n.items, 20);
    assert.ok(Math.abs(n.hitRatio - 5 / 6) < 1e-9);
    const page = await get(adminPort, "/");
    assert.equal(page.status, 200);
    assert.match(page.body, /keep<span>cache<\/span>/);
  });

  test("SIGTERM stops node and admin promptly even with a dashboard stream open", async () => {
    const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: adminPort, path: "/api/v1/stream" }, resolve)
        .on("error", reject);
    });
    stream.resume();
    const ended = new Promise<void>((resolve) => {
      stream.on("close", () => resolve());
    });
    const t0 = Date.now();
    const exited = new Promise<number | null>((resolve) =>
      node.child.once("exit", (code) => resolve(code)),
    );
    node.child.kill("SIGTERM");
    assert.equal(await exited, 0, node.output());
    await ended;
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  });

  test("a non-loopback --admin without KEEPCACHE_ADMIN_TOKEN refuses to start", () => {
    const env = { ...process.env };
    delete env.KEEPCACHE_ADMIN_TOKEN;
    const r = spawnSync(
      process.execPath,
      [keepcacheBin(), "node", "-p", "0", "--admin", "0.0.0.0:0"],
      {
        encoding: "utf8",
        timeout: 10_000,
        env,
      },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--admin: admin\.listen: 0\.0\.0\.0:0 is reachable from the network/);
    assert.match(r.stderr, /admin\.token/);
    const bad = spawnSync(process.execPath, [keepcacheBin(), "node", "--admin", "nohost"], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--admin: 'nohost' is not HOST:PORT/);
  });
});
