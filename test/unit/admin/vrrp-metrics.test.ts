/**
 * The VRRP source's metrics: the state as a one-hot `state` label, the transitions counter and
 * the `vrrp_instance` label (Prometheus keeps `instance` for the scrape target). The runtime is
 * given by its status() surface (VrrpLike), as the admin plane sees it; the live VIP moves are
 * the netns tests' (vrrp-failover.test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { AdminServer } from "../../../src/admin/http.js";
import { attachVrrp, type VrrpLike } from "../../../src/admin/sources/vrrp.js";
import type { VrrpInstanceStatus } from "../../../src/vrrp/runtime.js";
import { parsePrometheusText, sampleValue } from "./prom-text.js";

describe("vrrp metrics", () => {
  test("state one-hot, transitions and priority, labelled vrrp_instance", async () => {
    const st: VrrpInstanceStatus = {
      name: "VI_1",
      interface: "eth0",
      vrid: 51,
      version: 2,
      state: "BACKUP",
      priority: 90,
      basePriority: 100,
      vips: ["10.0.0.100/24"],
      masterIp: "10.0.0.2",
      held: false,
      since: Date.now(),
      transitions: 1,
      advertsSent: 0,
      advertsReceived: 12,
      drops: {},
    };
    const vrrp: VrrpLike = { status: () => [st], forceBackup: () => {} };
    const admin = new AdminServer({ log: pino({ level: "silent" }), processMetrics: false });
    const undo = attachVrrp(admin, vrrp, { watchMs: 60_000 });
    try {
      let f = parsePrometheusText(await admin.metrics.metrics());
      const l = { vrrp_instance: "VI_1" };
      assert.equal(sampleValue(f, "keepcache_vrrp_state", { ...l, state: "BACKUP" }), 1);
      assert.equal(sampleValue(f, "keepcache_vrrp_state", { ...l, state: "MASTER" }), 0);
      assert.equal(f.get("keepcache_vrrp_state")?.samples.length, 4);
      assert.equal(sampleValue(f, "keepcache_vrrp_transitions_total", l), 1);
      assert.equal(sampleValue(f, "keepcache_vrrp_priority", l), 90);
      st.state = "MASTER";
      st.transitions = 2;
      f = parsePrometheusText(await admin.metrics.metrics());
      assert.equal(sampleValue(f, "keepcache_vrrp_state", { ...l, state: "MASTER" }), 1);
      assert.equal(sampleValue(f, "keepcache_vrrp_state", { ...l, state: "BACKUP" }), 0);
      assert.equal(sampleValue(f, "keepcache_vrrp_master", l), 1);
      assert.equal(sampleValue(f, "keepcache_vrrp_transitions_total", l), 2);
    } finally {
      undo();
    }
  });
});
