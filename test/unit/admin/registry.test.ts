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
  storeMetrics,
} from "../../../src/metrics/table.js";
import { parsePrometheusText, sampleValue } from "./prom-text.js";

describe("metric names", () => {
  test("conventional names: prefix, snake_case, _total on counters", () => {
    assert.equal(snakeCase("limitMaxbytes"), "limit_maxbytes");
    assert.equal(metricName("node", "cmd_get", "counter"), "keepcache_node_cmd_get_total");
    assert.equal(metricName("store", "currItems", "gauge"), "keepcache_store_curr_items");
    assert.equal(metricName("x", "a_total", "counter"), "keepcache_x_a_total");
    // twemproxy's microsecond timestamp is exposed in seconds.
    assert.equal(
      metricName("proxy_server", "server_ejected_at", "gauge"),
      "keepcache_proxy_server_server_ejected_at_seconds",
    );
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
      assert.ok(fam.has(metricName("node", k, nodeMetrics[k].type)), k);
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
      sampleValue(fam, "keepcache_proxy_server_server_ejected_at_seconds", { server: "s1" }),
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
    assert.throws(() =>
      reg.registerSource(
        nodeMetrics,
        { subsystem: "proxy_server", labels: { pool: "x", server: "y" } },
        () => c,
      ),
    );
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
    assert.ok(fam.has("keepcache_process_cpu_seconds_total"));
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
