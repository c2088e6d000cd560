/** Redis Cluster pool keys (`redis_cluster: true`): defaults, and errors naming file:line and key. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigErrors, parseConfig } from "../../../src/config/index.js";

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, "t.yml");
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, String(err));
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected errors");
}

describe("redis cluster pool config", () => {
  test("seeds and defaults", () => {
    const cfg = parseConfig(
      [
        "c:",
        "  listen: 127.0.0.1:22123",
        "  redis: true",
        "  redis_cluster: true",
        "  read: prefer-replica",
        "  servers:",
        "    - 10.0.0.1:6379:1",
        "    - 10.0.0.2:6379:1",
      ].join("\n"),
      "t.yml",
    );
    const p = cfg.pools[0];
    assert.equal(p.redis_cluster, true);
    assert.equal(p.read, "prefer-replica");
    assert.equal(p.cluster_refresh_interval, 5000);
    assert.equal(p.cluster_failover_wait, 3000);
    assert.equal(p.servers.length, 2);
  });

  test("errors name the line, the key and what is allowed", () => {
    const msgs = errorsOf(
      [
        "c:",
        "  listen: 127.0.0.1:22123",
        "  redis_cluster: true",
        "  read: replica",
        "  redis_db: 2",
        "  servers:",
        "    - /tmp/redis.sock:1",
        "    - name: rs",
        "      members: [{ address: 127.0.0.1:6379 }]",
      ].join("\n"),
    );
    const has = (re: RegExp) =>
      assert.ok(
        msgs.some((m) => re.test(m)),
        msgs.join("\n"),
      );
    has(/^t\.yml:3: c\.redis_cluster: is only valid for a redis pool \(add "redis: true"\)/);
    has(/^t\.yml:5: c\.redis_db: must be 0 for a Redis Cluster pool/);
    has(/^t\.yml:7: c\.servers\[0\]: a Redis Cluster pool lists seed nodes as "host:port:weight"/);
    has(/^t\.yml:8: c\.servers\[1\]: a Redis Cluster pool lists seed nodes/);
    const notCluster = errorsOf(
      [
        "d:",
        "  listen: 127.0.0.1:1",
        "  redis: true",
        "  read: replica",
        "  servers:",
        "    - 127.0.0.1:6379:1",
      ].join("\n"),
    );
    assert.match(
      notCluster.join("\n"),
      /^t\.yml:4: d\.read: is only valid for a Redis Cluster pool/m,
    );
    const badRead = errorsOf(
      [
        "e:",
        "  listen: 127.0.0.1:1",
        "  redis: true",
        "  redis_cluster: true",
        "  read: any",
        "  servers:",
        "    - 127.0.0.1:6379:1",
      ].join("\n"),
    );
    assert.match(badRead.join("\n"), /^t\.yml:5: e\.read: .*master.*replica.*prefer-replica/m);
  });
});
