/**
 * The admin API drives the proxy's routing: three real cache nodes behind an in-process proxy
 * pool, requests counted on the backends themselves. After a drain no new request reaches the
 * drained server; a weight change shifts traffic; enable brings it back. /metrics (strictly
 * parsed) carries the proxy counters and per-server latency histograms.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { AdminServer } from "../../src/admin/http.js";
import { attachProxy } from "../../src/admin/sources/proxy.js";
import type { PoolStatus } from "../../src/admin/status.js";
import { parseConfig } from "../../src/config/load.js";
import { Leadership } from "../../src/failover/leader.js";
import { setControllers } from "../../src/failover/set-control.js";
import { nodeDefaults } from "../../src/node/options.js";
import { CacheNode } from "../../src/node/server.js";
import { ProxyService } from "../../src/proxy/proxy.js";
import { freePort } from "../../tools/ports.js";
import { RawClient } from "../helpers/line-client.js";
import { configYaml, poolConfig, server } from "../helpers/pool-config.js";
import { parsePrometheusText, sampleValue } from "../unit/admin/prom-text.js";

describe("admin actions change the proxy's routing", () => {
  const log = pino({ level: "silent" });
  const nodes = [0, 1, 2].map(
    () => new CacheNode({ ...nodeDefaults, port: 0, memoryLimitMb: 8 }, log),
  );
  const proxy = new ProxyService(log, setControllers(new Leadership()));
  const admin = new AdminServer({ log, listen: { kind: "tcp", host: "127.0.0.1", port: 0 } });
  let client: RawClient;
  let base = "";
  let round = 0;

  const gets = () => nodes.map((n) => n.ctx.counters.cmd_get);
  /** 300 gets of distinct keys through the proxy; returns how many reached each backend. */
  async function traffic(n = 300): Promise<number[]> {
    const before = gets();
    round++;
    let batch = "";
    for (let i = 0; i < n; i++) batch += `get r${round}-key-${i}\r\n`;
    client.write(batch);
    for (let i = 0; i < n; i++) await client.readUntil("END\r\n");
    return gets().map((g, i) => g - before[i]);
  }
  async function act(path: string, body: unknown = {}) {
    const r = await fetch(`${base}api/v1/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }
  async function pool(): Promise<PoolStatus> {
    const doc = (await (await fetch(`${base}api/v1/status`)).json()) as { pools: PoolStatus[] };
    return doc.pools[0];
  }

  before(async () => {
    for (const n of nodes) await n.listen();
    const listen = await freePort();
    const servers = nodes.map((n, i) => server(n.address().port, 1, `s${i + 1}`));
    const cfg = parseConfig(
      configYaml({ web: poolConfig(listen, servers, { distribution: "modula", hash: "murmur" }) }),
      "test.yml",
    );
    await proxy.start(cfg.pools);
    attachProxy(admin, proxy);
    await admin.listen();
    base = admin.url();
    client = await RawClient.connect(listen);
  });

  after(async () => {
    client?.close();
    await admin.close();
    await proxy.stop();
    for (const n of nodes) await n.close();
  });

  test("all three servers take traffic at first", async () => {
    const hits = await traffic();
    assert.ok(
      hits.every((h) => h > 40),
      `spread: ${hits}`,
    );
  });

  test("after a drain, no new request reaches the drained server", async () => {
    const r = await act("servers/web/s2/drain");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(String(r.body.message), /draining/);
    const hits = await traffic();
    assert.equal(hits[1], 0, `drained server got ${hits[1]} requests`);
    assert.equal(hits[0] + hits[2], 300);
    const p = await pool();
    assert.equal(p.shards.find((s) => s.name === "s2")?.members[0].health, "draining");
    const ev = (await (await fetch(`${base}api/v1/events`)).json()) as {
      events: { kind: string; subject: string }[];
    };
    assert.ok(ev.events.some((e) => e.kind === "action" && e.subject === "server web/s2 drain"));
  });

  test("enable brings it back; a weight change shifts traffic", async () => {
    assert.equal((await act("servers/web/s2/enable")).status, 200);
    assert.ok((await traffic())[1] > 40);
    assert.equal((await act("servers/web/s1/weight", { weight: 8 })).status, 200);
    const hits = await traffic();
    // modula: s1 holds 8 of 10 slots now.
    assert.ok(hits[0] > 180, `weighted spread: ${hits}`);
    assert.equal((await pool()).shards.find((s) => s.name === "s1")?.members[0].weight, 8);
    assert.equal((await act("servers/web/s1/weight", { weight: 0 })).status, 200);
    assert.equal((await traffic())[0], 0);
    assert.equal((await act("servers/web/s1/enable")).status, 200);
  });

  test("disable closes the server's connections; unknown servers are 404", async () => {
    assert.equal((await act("servers/web/s3/disable")).status, 200);
    // The node sees the proxy's close a moment later.
    for (let i = 0; i < 100 && nodes[2].ctx.counters.curr_connections > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(nodes[2].ctx.counters.curr_connections, 0);
    assert.equal((await traffic())[2], 0);
    assert.equal((await pool()).shards.find((s) => s.name === "s3")?.members[0].health, "disabled");
    assert.equal((await act("servers/web/nope/drain")).status, 404);
    assert.equal((await act("servers/other/s1/drain")).status, 404);
    assert.equal((await act("servers/web/s3/enable")).status, 200);
  });

  test("/metrics parses strictly and has proxy counters and latency histograms", async () => {
    const text = await (await fetch(`${base}metrics`)).text();
    const fams = parsePrometheusText(text);
    const reqs = sampleValue(fams, "keepcache_proxy_server_requests_total", {
      pool: "web",
      server: "s1",
    });
    assert.ok(reqs !== undefined && reqs > 100, `requests ${reqs}`);
    assert.ok(fams.has("keepcache_proxy_pool_client_connections"));
    const h = fams.get("keepcache_proxy_server_request_duration_seconds");
    assert.equal(h?.type, "histogram");
    const count = sampleValue(fams, "keepcache_proxy_server_request_duration_seconds_count", {
      pool: "web",
      server: "s2",
    });
    assert.ok(count !== undefined && count > 0);
    const p = await pool();
    assert.ok(p.shards.every((s) => s.members[0].latencyMs.p99 !== null));
  });
});
