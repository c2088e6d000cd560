import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MetricsRegistry, metricName, snakeCase } from "../../../src/admin/registry.js";
import { Histogram } from "../../../src/metrics/histogram.js";
import {
  counters,
  type MetricTable,
  nodeMetrics,
  proxyServerMetrics,
  replicaSetMetrics,
  storeMetrics,
} from "../../../src/metrics/table.js";
import { ALL_TABLES } from "./all-metrics.js";
import { parsePrometheusText, sampleValue } from "./prom-text.js";

describe("metric names", () => {
  test("conventional names: prefix, snake_case, _total on counters", () => {
    assert.equal(snakeCase("limitMaxbytes"), "limit_maxbytes");
    const counter = { type: "counter" } as const;
    const gauge = { type: "gauge" } as const;
    assert.equal(metricName("node", "cmd_get", counter), "keepcache_node_cmd_get_total");
    assert.equal(metricName("store", "currItems", gauge), "keepcache_store_curr_items");
    assert.equal(metricName("", "build_info", gauge), "keepcache_build_info");
    // twemproxy's microsecond timestamp is exposed in seconds, under a conventional name.
    assert.equal(
      metricName("proxy_server", "server_ejected_at", proxyServerMetrics.server_ejected_at),
      "keepcache_proxy_server_last_ejection_timestamp_seconds",
    );
  });

  test("every table's names follow the conventions: no doubled words, _total on counters only", () => {
    const seen = new Set<string>();
    for (const [sub, table] of ALL_TABLES) {
      for (const [k, def] of Object.entries(table)) {
        const name = metricName(sub, k, def);
        assert.match(name, /^keepcache_[a-z0-9_]+$/, name);
        assert.ok(!seen.has(name), `${name} twice`);
        seen.add(name);
        const words = name.replace(/_total$/, "").split("_");
        for (let i = 1; i < words.length; i++) {
          assert.notEqual(words[i], words[i - 1], `${name}: doubled word`);
        }
        assert.ok(!/_total_/.test(name) && !/total_total/.test(name), name);
        if (def.type !== "counter") assert.ok(!name.endsWith("_total"), name);
        if (/bytes/i.test(def.help) && def.type === "gauge" && !/index/.test(def.help)) {
          assert.ok(name.endsWith("_bytes"), `${name}: a byte gauge ends in _bytes`);
        }
      }
    }
  });
});

describe("MetricsRegistry", () => {
  test("every registered source appears with its labels and current values", async () => {
    const reg = new MetricsRegistry({ defaultMetrics: false });
    const a = counters(nodeMetrics);
    const b = counters(nodeMetrics);
    reg.registerSource(nodeMetrics, { subsystem: "node", labels: { node: "a" } }, () => a);
    reg.registerSource(nodeMetrics, { subsystem: "node", labels: { node: "b" } }, () => b);
    a.cmd_get = 5;
    b.cmd_get = 7;
    b.curr_connections = 3;
    let fam = parsePrometheusText(await reg.metrics());
    assert.equal(sampleValue(fam, "keepcache_node_cmd_get_total", { node: "a" }), 5);
    assert.equal(sampleValue(fam, "keepcache_node_cmd_get_total", { node: "b" }), 7);
    assert.equal(sampleValue(fam, "keepcache_node_curr_connections", { node: "b" }), 3);
    assert.equal(fam.get("keepcache_node_cmd_get_total")?.type, "counter");
    assert.equal(fam.get("keepcache_node_curr_connections")?.type, "gauge");
    assert.equal(fam.get("keepcache_node_cmd_get_total")?.help, nodeMetrics.cmd_get.help);
    // Values are read at scrape time: a later change shows in the next scrape.
    a.cmd_get = 6;
    fam = parsePrometheusText(await reg.metrics());
    assert.equal(sampleValue(fam, "keepcache_node_cmd_get_total", { node: "a" }), 6);
    // Every table entry has a family.
    for (const k of Object.keys(nodeMetrics) as (keyof typeof nodeMetrics)[]) {
      assert.ok(fam.has(metricName("node", k, nodeMetrics[k])), k);
    }
  });

  test("sources are read once per scrape, and undefined or throwing sources drop out", async () => {
    const reg = new MetricsRegistry({ defaultMetrics: false });
    let reads = 0;
    reg.registerSource(storeMetrics, { subsystem: "store", labels: { node: "a" } }, () => {
      reads++;
      return { currItems: 3, bytes: 100 };
    });
    reg.registerSource(
      storeMetrics,
      { subsystem: "store", labels: { node: "gone" } },
      () => undefined,
    );
    reg.registerSource(storeMetrics, { subsystem: "store", labels: { node: "bad" } }, () => {
      throw new Error("torn down");
    });
    const fam = parsePrometheusText(await reg.metrics());
    assert.equal(reads, 1);
    assert.equal(sampleValue(fam, "keepcache_store_curr_items", { node: "a" }), 3);
    assert.equal(sampleValue(fam, "keepcache_store_curr_items", { node: "gone" }), undefined);
    assert.equal(sampleValue(fam, "keepcache_store_curr_items", { node: "bad" }), undefined);
    await reg.metrics();
    assert.equal(reads, 2);
  });

  test("unregistering removes the series; label schemas and tables must match", async () => {
    const reg = new MetricsRegistry({ defaultMetrics: false });
    const c = counters(proxyServerMetrics);
    c.server_ejected_at = 1_700_000_000_000_000;
    c.requests = 9;
    const undo = reg.registerSource(
      proxyServerMetrics,
      { subsystem: "proxy_server", labels: { pool: "web", server: "s1" } },
      () => c,
    );
    let fam = parsePrometheusText(await reg.metrics());
    assert.equal(
      sampleValue(fam, "keepcache_proxy_server_last_ejection_timestamp_seconds", { server: "s1" }),
      1_700_000_000,
    );
    assert.equal(sampleValue(fam, "keepcache_proxy_server_requests_total", { pool: "web" }), 9);
    undo();
    fam = parsePrometheusText(await reg.metrics());
    assert.equal(
      sampleValue(fam, "keepcache_proxy_server_requests_total", { pool: "web" }),
      undefined,
    );
    assert.throws(() =>
      reg.registerSource(
        proxyServerMetrics,
        { subsystem: "proxy_server", labels: { pool: "x" } },
        () => c,
      ),
    );
    // A second table of a subsystem is fine unless one of its names is taken already.
    const clash = { requests: { type: "counter", help: "again" } } satisfies MetricTable;
    assert.throws(
      () =>
        reg.registerSource(clash, { subsystem: "proxy_server", labels: { pool: "x" } }, () => ({
          requests: 1,
        })),
      /keepcache_proxy_server_requests_total' .* already registered/,
    );
  });

  test("a zero 'never' timestamp has no sample; a labelled entry gives one series per value", async () => {
    const reg = new MetricsRegistry({ defaultMetrics: false });
    const c = counters(proxyServerMetrics);
    reg.registerSource(
      proxyServerMetrics,
      { subsystem: "proxy_server", labels: { pool: "web", server: "s1" } },
      () => c,
    );
    reg.registerSource(
      replicaSetMetrics,
      { subsystem: "replicaset", labels: { pool: "web", set: "rs" } },
      () => ({
        primary: { "127.0.0.1:1": 1 },
        members: 3,
        live: 2,
        quorum: 2,
        failovers: { switched: 4, aborted: 1 },
      }),
    );
    const fam = parsePrometheusText(await reg.metrics());
    assert.equal(
      fam.get("keepcache_proxy_server_last_ejection_timestamp_seconds")?.samples.length,
      0,
    );
    const set = { pool: "web", set: "rs" };
    assert.equal(
      sampleValue(fam, "keepcache_replicaset_primary_info", { ...set, member: "127.0.0.1:1" }),
      1,
    );
    assert.equal(sampleValue(fam, "keepcache_replicaset_live_members", set), 2);
    const fo = "keepcache_replicaset_failovers_total";
    assert.equal(sampleValue(fam, fo, { ...set, outcome: "switched" }), 4);
    assert.equal(sampleValue(fam, fo, { ...set, outcome: "aborted" }), 1);
    assert.equal(fam.get(fo)?.type, "counter");
  });

  test("histograms expose seconds buckets that pass the strict parser", async () => {
    const reg = new MetricsRegistry({ defaultMetrics: false });
    const h1 = new Histogram();
    const h2 = new Histogram();
    const opts = { subsystem: "proxy_server", name: "request_duration", help: "Request latency" };
    reg.registerHistogram({ ...opts, labels: { pool: "web", server: "s1" } }, h1);
    reg.registerHistogram({ ...opts, labels: { pool: "web", server: "s2" } }, h2);
    h1.observe(0.3);
    h1.observe(4);
    h1.observe(99_999);
    const fam = parsePrometheusText(await reg.metrics());
    const f = fam.get("keepcache_proxy_server_request_duration_seconds");
    assert.equal(f?.type, "histogram");
    const n = "keepcache_proxy_server_request_duration_seconds";
    assert.equal(sampleValue(fam, `${n}_bucket`, { server: "s1", le: "0.0005" }), 1);
    assert.equal(sampleValue(fam, `${n}_bucket`, { server: "s1", le: "0.005" }), 2);
    assert.equal(sampleValue(fam, `${n}_bucket`, { server: "s1", le: "+Inf" }), 3);
    assert.equal(sampleValue(fam, `${n}_count`, { server: "s1" }), 3);
    assert.ok(Math.abs((sampleValue(fam, `${n}_sum`, { server: "s1" }) ?? 0) - 100.0033) < 1e-9);
    assert.equal(sampleValue(fam, `${n}_count`, { server: "s2" }), 0);
    assert.throws(() => reg.registerHistogram({ ...opts, labels: { le: "x" } }, h1));
  });

  test("process metrics are included and the whole exposition parses", async () => {
    const reg = new MetricsRegistry();
    const fam = parsePrometheusText(await reg.metrics());
    // Standard names, so stock process dashboards work; no gauge ends in _total.
    assert.ok(fam.has("process_cpu_seconds_total"));
    assert.ok(fam.has("nodejs_active_handles"));
    for (const [name, f] of fam) {
      if (f.type !== "counter") assert.ok(!name.endsWith("_total"), name);
    }
    assert.ok(reg.contentType.startsWith("text/plain; version=0.0.4"));
  });

  test("property: label values with any characters survive escaping", async () => {
    const table = {
      hits: { type: "counter", help: 'help with \\ and "quotes"' },
    } satisfies MetricTable;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }), fc.nat(1e9), async (label, v) => {
        const reg = new MetricsRegistry({ defaultMetrics: false });
        reg.registerSource(table, { subsystem: "t", labels: { name: label } }, () => ({ hits: v }));
        const fam = parsePrometheusText(await reg.metrics());
        assert.equal(sampleValue(fam, "keepcache_t_hits_total", { name: label }), v);
      }),
      { numRuns: 100 },
    );
  });
});

describe("strict text parser (self-check)", () => {
  test("rejects what a scraper would", () => {
    const bad = [
      "a 1", // no trailing newline
      "# TYPE a counter\n# TYPE a counter\na 1\n",
      "a 1\n# TYPE a counter\n",
      "a 1\nb 1\na 2\n",
      'a{x="1",x="2"} 1\n',
      "a 1\na 1\n",
      "a{x=1} 1\n",
      "1a 1\n",
      "a one\n",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n',
    ];
    for (const b of bad) assert.throws(() => parsePrometheusText(b), Error, JSON.stringify(b));
    const ok = parsePrometheusText('# HELP a x\n# TYPE a gauge\na{l="q\\"\\n\\\\"} -Inf\n');
    assert.equal(sampleValue(ok, "a", { l: 'q"\n\\' }), Number.NEGATIVE_INFINITY);
  });
});
