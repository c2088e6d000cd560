/**
 * Monitoring checked by a real Prometheus (Debian's `prometheus` package) and its promtool:
 *   - `promtool check metrics` finds nothing to say about the /metrics of `keepcache node
 *     --admin`, `keepcache run` and `keepcache up` (whose /metrics includes its nodes');
 *   - Prometheus scrapes `keepcache run` (a memcached pool, a Redis replica set with builtin
 *     failover and a TCP service) and evaluates the SHIPPED alert rules
 *     (monitoring/prometheus/keepcache-alerts.yml); after kill -9 of the Redis master, the
 *     memcached server and the TCP backend, its HTTP API shows the member down, the failover
 *     counted and the new primary, and /api/v1/alerts shows KeepcacheFailover firing (its
 *     `for:` is 0) and the one-minute rules pending (their firing is `promtool test rules`'s,
 *     in monitoring-rules.test.ts);
 *   - /healthz and /readyz answer without a token and name only failing checks;
 *   - a refused SIGHUP reload shows in the metrics and fires KeepcacheConfigReloadFailed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { until } from "../helpers/keepcache-run.js";
import { freePorts } from "../helpers/ports.js";
import {
  keepcacheBin,
  type Proc,
  repoRoot,
  start,
  startMemcached,
  startRedis,
  stopAll,
} from "../helpers/procs.js";

const RULES = join(repoRoot(), "monitoring", "prometheus", "keepcache-alerts.yml");

async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.text() };
}

/** `promtool check metrics` on an exposition: its whole output (nothing when clean). */
function promtoolCheck(text: string): string {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return `${r.stdout}${r.stderr}${r.status === 0 ? "" : `(exit ${r.status})`}`;
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe("monitoring: promtool and a real Prometheus", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-monitoring-"));
  let ports: Record<string, number>;
  let redisMaster: Proc;
  let mcPool: Proc;
  let mcTcp: Proc;
  let run: Proc;

  // Prometheus' HTTP API (api/v1): an instant query, and the alerts its rules produce.
  const query = async (q: string): Promise<PromResult[]> => {
    const r = await httpGet(ports.prom, `/api/v1/query?query=${encodeURIComponent(q)}`);
    const doc = JSON.parse(r.body) as { status: string; data?: { result: PromResult[] } };
    assert.equal(doc.status, "success", r.body);
    return doc.data?.result ?? [];
  };
  const one = async (q: string) => {
    const r = await query(q);
    return r.length === 1 ? Number(r[0].value[1]) : undefined;
  };
  type Alert = { labels: Record<string, string>; state: string };
  let alerts: Alert[] = [];
  const loadAlerts = async () => {
    const r = await httpGet(ports.prom, "/api/v1/alerts");
    alerts = (JSON.parse(r.body) as { data: { alerts: Alert[] } }).data.alerts;
  };
  const find = (name: string, labels: Record<string, string> = {}) =>
    alerts.find(
      (a) =>
        a.labels.alertname === name && Object.entries(labels).every(([k, v]) => a.labels[k] === v),
    );

  before(async () => {
    const p = await freePorts(10);
    ports = {
      mc1: p[0],
      mc2: p[1],
      r0: p[2],
      r1: p[3],
      mcPool: p[4],
      redisPool: p[5],
      tcp: p[6],
      admin: p[7],
      stats: p[8],
      prom: p[9],
    };
    [mcPool, mcTcp, redisMaster] = await Promise.all([
      startMemcached(ports.mc1),
      startMemcached(ports.mc2),
      startRedis(ports.r0),
    ]);
    await startRedis(ports.r1, ["--replicaof", "127.0.0.1", String(ports.r0)]);
    const file = join(dir, "keepcache.yml");
    writeFileSync(
      file,
      [
        `admin: { listen: "127.0.0.1:${ports.admin}" }`,
        "pools:",
        "  mc:",
        `    listen: 127.0.0.1:${ports.mcPool}`,
        "    auto_eject_hosts: true",
        "    health: { interval: 200, timeout: 200, rise: 1, fall: 1 }",
        `    servers: [ "127.0.0.1:${ports.mc1}:1" ]`,
        "  rd:",
        `    listen: 127.0.0.1:${ports.redisPool}`,
        "    redis: true",
        "    servers:",
        "      - name: shard1",
        "        failover: builtin",
        "        members:",
        `          - { address: "127.0.0.1:${ports.r0}", role: master }`,
        `          - { address: "127.0.0.1:${ports.r1}", role: replica }`,
        "tcp:",
        "  svc:",
        `    listen: 127.0.0.1:${ports.tcp}`,
        "    check: { type: tcp, interval: 200, timeout: 200, rise: 1, fall: 1 }",
        `    servers: [ { address: "127.0.0.1:${ports.mc2}" } ]`,
        "",
      ].join("\n"),
    );
    run = await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", file, "-s", String(ports.stats)],
      { port: ports.admin, env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" } },
    );
  });
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("promtool check metrics: keepcache run, node --admin and up print nothing", async () => {
    // Once ready: the replica set has its members' roles and the TCP server its health.
    await until(async () => (await httpGet(ports.admin, "/readyz")).status === 200, "ready");
    const runText = (await httpGet(ports.admin, "/metrics")).body;
    assert.match(runText, /^keepcache_replicaset_live_members\{.*\} 2$/m);
    assert.match(runText, /^keepcache_tcp_server_up\{.*\} 1$/m);
    assert.match(runText, /^keepcache_build_info\{version=".+"\} 1$/m);
    assert.match(runText, /^keepcache_config_last_reload_successful 1$/m);
    assert.match(runText, /^process_cpu_seconds_total /m);
    assert.equal(promtoolCheck(runText), "", "keepcache run");

    const [nodePort, nodeAdmin, upPort, upAdmin] = await freePorts(4);
    await start(
      process.execPath,
      [keepcacheBin(), "node", "-p", String(nodePort), "--admin", `127.0.0.1:${nodeAdmin}`],
      { port: nodeAdmin },
    );
    const up = await start(
      process.execPath,
      [keepcacheBin(), "up", "--port", String(upPort), "--admin", `127.0.0.1:${upAdmin}`],
      { port: upAdmin, timeoutMs: 20_000 },
    );
    const nodeText = (await httpGet(nodeAdmin, "/metrics")).body;
    assert.match(nodeText, /^keepcache_store_limit_bytes\{/m);
    assert.equal(promtoolCheck(nodeText), "", "keepcache node --admin");
    // `up`'s /metrics holds its own series and both nodes', labelled by node.
    let upText = "";
    await until(
      async () => {
        upText = (await httpGet(upAdmin, "/metrics")).body;
        return /peer_state\{node="node-b".*state="online"\} 1/.test(upText);
      },
      "up's /metrics with node-b's replication online",
      15_000,
    );
    assert.match(upText, /^keepcache_node_cmd_get_total\{node="node-a"\} /m);
    assert.match(upText, /^process_cpu_seconds_total\{node="node-b"\} /m);
    assert.match(upText, /^process_cpu_seconds_total [\d.e+-]+$/m);
    assert.match(upText, /^keepcache_replicaset_live_members\{pool="demo",set="cache"\} 2$/m);
    assert.equal(promtoolCheck(upText), "", "keepcache up");
    await up.stop("SIGINT");
  });

  test("Prometheus sees the member down, the failover counted and the shipped alert fire", async () => {
    const promDir = join(dir, "prom");
    const cfg = join(dir, "prometheus.yml");
    writeFileSync(
      cfg,
      [
        "global: { scrape_interval: 500ms, evaluation_interval: 500ms }",
        `rule_files: [ "${RULES}" ]`,
        "scrape_configs:",
        "  - job_name: keepcache",
        `    static_configs: [ { targets: [ "127.0.0.1:${ports.admin}" ] } ]`,
        "",
      ].join("\n"),
    );
    await start(
      "prometheus",
      [
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${promDir}`,
        `--web.listen-address=127.0.0.1:${ports.prom}`,
        "--log.level=warn",
      ],
      { port: ports.prom, timeoutMs: 20_000 },
    );
    // It listens before its storage is open: /-/ready says when queries are served.
    await until(
      async () => (await httpGet(ports.prom, "/-/ready")).status === 200,
      "Prometheus ready",
      20_000,
    );
    await until(
      async () => (await one('keepcache_replicaset_live_members{set="shard1"}')) === 2,
      "Prometheus scraped the replica set with both members live",
      20_000,
    );
    assert.equal(await one('up{job="keepcache"}'), 1);
    const primary = await query("keepcache_replicaset_primary_info == 1");
    assert.equal(primary[0]?.metric.member, `127.0.0.1:${ports.r0}`);

    await Promise.all([redisMaster.stop("SIGKILL"), mcPool.stop("SIGKILL"), mcTcp.stop("SIGKILL")]);
    const master = `shard1/127.0.0.1:${ports.r0}`;
    await until(
      async () =>
        (await one(`keepcache_proxy_server_up{server="${master}"}`)) === 0 &&
        (await one('keepcache_replicaset_failovers_total{outcome="switched"}')) === 1,
      "Prometheus to see the master down and one failover",
      15_000,
    );
    const after1 = await query("keepcache_replicaset_primary_info == 1");
    assert.equal(after1[0]?.metric.member, `127.0.0.1:${ports.r1}`, "the replica was promoted");
    assert.equal(
      await one(`keepcache_proxy_server_ejected{server="${master}",reason="member_down"}`),
      1,
    );
    await until(
      async () =>
        (await one('keepcache_proxy_server_ejected{pool="mc",reason="health_check"}')) === 1 &&
        (await one("keepcache_tcp_server_up")) === 0,
      "Prometheus to see the memcached server ejected and the TCP server down",
      10_000,
    );

    // The shipped rules, evaluated by Prometheus itself.
    await until(
      async () => {
        await loadAlerts();
        return (
          find("KeepcacheFailover")?.state === "firing" &&
          find("KeepcacheServerEjected", { server: master }) !== undefined &&
          find("KeepcacheServerEjected", { pool: "mc" }) !== undefined &&
          find("KeepcacheShardBelowMajority") !== undefined &&
          find("KeepcacheTcpServerDown") !== undefined
        );
      },
      "the alerts in Prometheus",
      10_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(alerts)}`);
    });
    assert.deepEqual(
      { pool: find("KeepcacheFailover")?.labels.pool, set: find("KeepcacheFailover")?.labels.set },
      { pool: "rd", set: "shard1" },
    );
    // One-minute `for:` windows: pending now (firing after the minute: promtool test rules).
    for (const [name, labels] of [
      ["KeepcacheServerEjected", { server: master, reason: "member_down" }],
      ["KeepcacheServerEjected", { pool: "mc", reason: "health_check" }],
      ["KeepcacheShardBelowMajority", { set: "shard1" }],
      ["KeepcacheTcpServerDown", { service: "svc" }],
    ] as const) {
      assert.equal(find(name, labels)?.state, "pending", `${name} ${JSON.stringify(labels)}`);
    }
    assert.equal(find("KeepcacheDown"), undefined);
    assert.equal(find("KeepcacheConfigReloadFailed"), undefined);
  });

  test("/healthz and /readyz: no token, no names beyond the failing checks", async () => {
    const h = await httpGet(ports.admin, "/healthz");
    assert.equal(h.status, 200);
    assert.deepEqual(JSON.parse(h.body), { status: "ok" });
    // The memcached pool's only server is down (killed above): its shard has no live server.
    const r = await httpGet(ports.admin, "/readyz");
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { status: "not ready", failing: ["shards_live"] });
    assert.ok(!r.body.includes("127.0.0.1") && !r.body.includes("mc"), r.body);
    await startMemcached(ports.mc1);
    await until(
      async () => (await httpGet(ports.admin, "/readyz")).status === 200,
      "ready again once the server answers",
      10_000,
    );
    assert.equal(run.child.exitCode, null);
  });

  test("a refused SIGHUP reload is counted and KeepcacheConfigReloadFailed fires", async () => {
    const file = join(dir, "keepcache.yml");
    writeFileSync(file, `${readFileSync(file, "utf8")}\nnot_a_section: [\n`);
    run.child.kill("SIGHUP");
    await until(
      async () =>
        (await one("keepcache_config_last_reload_successful")) === 0 &&
        (await one('keepcache_config_reloads_total{result="failure"}')) === 1,
      "Prometheus to see the refused reload",
      10_000,
    );
    assert.equal(await one('keepcache_config_reloads_total{result="success"}'), 1);
    await until(
      async () => {
        await loadAlerts();
        return find("KeepcacheConfigReloadFailed")?.state === "firing";
      },
      "KeepcacheConfigReloadFailed firing",
      10_000,
    );
    assert.equal(run.child.exitCode, null, "the old config keeps serving");
  });
});
