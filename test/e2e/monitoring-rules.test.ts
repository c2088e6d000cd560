/**
 * The shipped monitoring assets (monitoring/): the alert rules pass `promtool check rules`
 * and their unit tests (`promtool test rules`, which also fire the rules whose `for:` windows
 * are too long for the live test in monitoring-prometheus.test.ts), and the rules and the
 * Grafana dashboard only use metric names keepcache exposes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../helpers/procs.js";
import { allMetricNames } from "../unit/admin/all-metrics.js";

const DIR = join(repoRoot(), "monitoring");
const RULES = join(DIR, "prometheus", "keepcache-alerts.yml");
const RULE_TESTS = join(DIR, "prometheus", "keepcache-alerts.test.yml");
const DASHBOARD = join(DIR, "grafana", "keepcache-dashboard.json");

function promtool(...args: string[]) {
  return spawnSync("promtool", args, { encoding: "utf8", cwd: join(DIR, "prometheus") });
}

/** The keepcache_* names a text mentions. */
function namesIn(text: string): string[] {
  return [...new Set(text.match(/\bkeepcache_[a-z0-9_]+/g) ?? [])];
}

describe("shipped monitoring assets", () => {
  test("promtool check rules", () => {
    const r = promtool("check", "rules", RULES);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test("promtool test rules: every alert fires when it should and not before", () => {
    const r = promtool("test", "rules", RULE_TESTS);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    // Every alert of the rules file has a unit test.
    const alerts = [...readFileSync(RULES, "utf8").matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readFileSync(RULE_TESTS, "utf8");
    for (const a of alerts) assert.ok(tests.includes(`alertname: ${a}`), `${a} has no test`);
  });

  test("the rules and the dashboard use only metric names keepcache exposes", () => {
    const known = allMetricNames();
    const rules = readFileSync(RULES, "utf8");
    const dash = readFileSync(DASHBOARD, "utf8");
    JSON.parse(dash);
    for (const [what, text] of [
      ["rules", rules],
      ["dashboard", dash],
    ] as const) {
      const names = namesIn(text);
      assert.ok(names.length > 5, what);
      for (const n of names) assert.ok(known.has(n), `${what}: ${n} is not exposed`);
    }
  });
});
