/**
 * `keepcache run` with an admin plane, as a process: `admin:` in the native YAML starts the
 * listener, `--admin` overrides it; /metrics passes the strict Prometheus parser and carries
 * the proxy's pool and server counters and per-server latency histograms; the status document
 * shows the pool; a server action over HTTP reaches the running proxy; SIGTERM stops cleanly.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { PoolStatus } from "../../src/admin/status.js";
import { RawClient } from "../helpers/line-client.js";
import { freePorts, waitForPort } from "../helpers/ports.js";
import { keepcacheBin, start, startMemcached, stopAll } from "../helpers/procs.js";
import { parsePrometheusText, sampleValue } from "../unit/admin/prom-text.js";

const dir = mkdtempSync(join(tmpdir(), "kc-admin-run-"));

describe("keepcache run with admin", () => {
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("admin: in YAML; /metrics strict with proxy counters and histograms; actions reach the proxy", async () => {
    const [listen, stats, m1, m2, adminPort, flagPort] = await freePorts(6);
    await Promise.all([startMemcached(m1), startMemcached(m2)]);
    const file = join(dir, "run.yml");
    writeFileSync(
      file,
      [
        "pools:",
        "  web:",
        `    listen: 127.0.0.1:${listen}`,
        "    hash: murmur",
        "    distribution: modula",
        "    servers:",
        `      - 127.0.0.1:${m1}:1 m1`,
        `      - 127.0.0.1:${m2}:1 m2`,
        "admin:",
        `  listen: 127.0.0.1:${adminPort}`,
        "",
      ].join("\n"),
    );
    // --admin wins over the file.
    const proc = await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", file, "-s", String(stats), "--admin", `127.0.0.1:${flagPort}`],
      { port: listen, env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" } },
    );
    await waitForPort(flagPort);
    const base = `http://127.0.0.1:${flagPort}/`;
    const c = await RawClient.connect(listen);
    for (let i = 0; i < 50; i++) {
      assert.equal(await c.call(`set k${i} 0 0 1\r\nx\r\n`), "STORED\r\n");
      await c.call(`get k${i}\r\n`, "END\r\n");
    }
    const text = await (await fetch(`${base}metrics`)).text();
    const fams = parsePrometheusText(text);
    const sent = ["m1", "m2"].map(
      (server) =>
        sampleValue(fams, "keepcache_proxy_server_requests_total", { pool: "web", server }) ?? 0,
    );
    assert.equal(sent[0] + sent[1], 100);
    assert.equal(sampleValue(fams, "keepcache_proxy_pool_client_connections", { pool: "web" }), 1);
    assert.equal(fams.get("keepcache_proxy_server_request_duration_seconds")?.type, "histogram");
    const count = ["m1", "m2"].map(
      (server) =>
        sampleValue(fams, "keepcache_proxy_server_request_duration_seconds_count", {
          pool: "web",
          server,
        }) ?? 0,
    );
    assert.equal(count[0] + count[1], 100);
    assert.ok(fams.has("process_cpu_seconds_total"));

    const doc = (await (await fetch(`${base}api/v1/status`)).json()) as { pools: PoolStatus[] };
    assert.equal(doc.pools[0].name, "web");
    assert.equal(doc.pools[0].listen, `127.0.0.1:${listen}`);
    const r = await fetch(`${base}api/v1/servers/web/m1/drain`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(r.status, 200);
    for (let i = 0; i < 50; i++) await c.call(`get k${i}\r\n`, "END\r\n");
    const after = parsePrometheusText(await (await fetch(`${base}metrics`)).text());
    assert.equal(
      sampleValue(after, "keepcache_proxy_server_requests_total", { pool: "web", server: "m1" }),
      sent[0],
    );
    c.close();
    assert.match(proc.output(), /admin: server web\/m1 drain/);
    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0, proc.output().slice(-2000));
  });
});
