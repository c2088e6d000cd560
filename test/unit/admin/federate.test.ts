import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { mergeExpositions, setLabels } from "../../../src/admin/federate.js";
import { MetricsRegistry } from "../../../src/admin/registry.js";
import { counters, nodeMetrics } from "../../../src/metrics/table.js";
import { parsePrometheusText, sampleValue } from "./prom-text.js";

describe("federate: other processes' /metrics in ours", () => {
  test("setLabels adds a label, or replaces one the sample has, keeping escapes", () => {
    assert.equal(setLabels("x_total 3", { node: "a" }), 'x_total{node="a"} 3');
    assert.equal(setLabels('x{node="node 1",k="v"} 3', { node: "a" }), 'x{node="a",k="v"} 3');
    assert.equal(
      setLabels('x{k="a\\"b\\\\c,d}"} 1', { node: 'q"' }),
      'x{node="q\\"",k="a\\"b\\\\c,d}"} 1',
    );
  });

  test("one family per name with every process's samples, strictly parseable", async () => {
    const own = new MetricsRegistry({ defaultMetrics: true });
    const child = new MetricsRegistry({ defaultMetrics: true });
    const c = counters(nodeMetrics);
    c.cmd_get = 7;
    child.registerSource(nodeMetrics, { subsystem: "node", labels: { node: "node 1" } }, () => c);
    own.registerRemote({ node: "node-a" }, () => child.metrics());
    own.registerRemote({ node: "gone" }, () => Promise.reject(new Error("refused")));
    const fams = parsePrometheusText(await own.metrics());
    assert.equal(sampleValue(fams, "keepcache_node_cmd_get_total", { node: "node-a" }), 7);
    const cpu = fams.get("process_cpu_seconds_total");
    assert.equal(cpu?.samples.length, 2, "ours and the child's");
    assert.ok(cpu?.samples.some((s) => s.labels.node === "node-a"));
    assert.ok(cpu?.samples.some((s) => s.labels.node === undefined));
  });

  test("property: any label value survives relabelling", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (v, node) => {
        const reg = `# HELP t_total h\n# TYPE t_total counter\nt_total{name="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"} 1\n`;
        const fams = parsePrometheusText(mergeExpositions("", [{ labels: { node }, text: reg }]));
        assert.equal(sampleValue(fams, "t_total", { name: v, node }), 1);
      }),
      { numRuns: 200 },
    );
  });
});
