/**
 * The failover control plane's pure pieces: the promotion order (Sentinel's
 * compareSlavesForPromotion) and the ROLE / INFO replication parsers, fed with replies from a
 * real master/replica pair as well as hand-written edge cases.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { electReplica, witnessesConfirm } from "../../../src/failover/elect.js";
import {
  parseInfo,
  parseRole,
  type ReplicaFacts,
  replicaFacts,
} from "../../../src/failover/info.js";
import { freePorts } from "../../../tools/ports.js";
import { startRedis, stopAll } from "../../../tools/procs.js";

const facts = fc.record({
  index: fc.nat(20),
  priority: fc.constantFrom(0, 1, 50, 100),
  offset: fc.constantFrom(0, 10, 11, 1_000_000),
  runId: fc.constantFrom("a", "b", "c", ""),
  linkDown: fc.boolean(),
});

/** Sentinel's order written as a sort, to compare the single pass against. */
function bySort(list: readonly ReplicaFacts[]): ReplicaFacts | undefined {
  return [...list]
    .filter((r) => r.priority !== 0)
    .sort(
      (a, b) =>
        a.priority - b.priority ||
        b.offset - a.offset ||
        (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0),
    )[0];
}

describe("election order", () => {
  test("priority first (0 never), then the highest offset, then the smallest run id", () => {
    const f = (index: number, priority: number, offset: number, runId: string) => ({
      index,
      priority,
      offset,
      runId,
      linkDown: false,
    });
    assert.equal(electReplica([]), undefined);
    assert.equal(electReplica([f(1, 0, 1e9, "a"), f(2, 0, 1, "b")]), undefined);
    assert.equal(electReplica([f(1, 0, 1e9, "a"), f(2, 200, 1, "b")])?.index, 2);
    // A lower priority number wins over more data.
    assert.equal(electReplica([f(1, 100, 1e9, "a"), f(2, 10, 0, "z")])?.index, 2);
    assert.equal(electReplica([f(1, 100, 5, "a"), f(2, 100, 6, "z")])?.index, 2);
    assert.equal(electReplica([f(1, 100, 6, "b"), f(2, 100, 6, "a")])?.index, 2);
  });

  test("the winner matches the order as a sort, whatever the input order", () => {
    fc.assert(
      fc.property(fc.array(facts, { maxLength: 8 }), (list) => {
        const won = electReplica(list);
        const want = bySort(list);
        if (want === undefined) return won === undefined;
        assert.ok(won);
        assert.deepEqual(
          [won.priority, won.offset, won.runId],
          [want.priority, want.offset, want.runId],
        );
        assert.deepEqual(electReplica([...list].reverse())?.runId, won.runId);
        return true;
      }),
    );
  });

  test("witnesses: a strict majority of replicas must report the link down", () => {
    assert.equal(witnessesConfirm(0, 0), true);
    assert.equal(witnessesConfirm(1, 0), false);
    assert.equal(witnessesConfirm(1, 1), true);
    assert.equal(witnessesConfirm(2, 1), false);
    assert.equal(witnessesConfirm(4, 2), false);
    assert.equal(witnessesConfirm(4, 3), true);
    assert.equal(witnessesConfirm(5, 3), true);
  });
});

describe("ROLE and INFO parsing", () => {
  test("edge cases: other roles, missing fields, junk", () => {
    assert.equal(parseRole(undefined), undefined);
    assert.equal(parseRole([]), undefined);
    assert.equal(parseRole("master"), undefined);
    assert.equal(parseRole(["cluster-thing"]), undefined);
    assert.deepEqual(parseRole(["sentinel", ["mymaster"]]), { role: "sentinel" });
    assert.deepEqual(parseRole(["master", "x"]), { role: "master", offset: 0, replicas: [] });
    assert.deepEqual(parseRole(["replica", "::1", "6379", "sync", "-1"]), {
      role: "replica",
      masterHost: "::1",
      masterPort: 6379,
      state: "sync",
      offset: -1,
    });
    const info = parseInfo("# Replication\nrole:master\n\nbad line\nx:a:b\r\n");
    assert.deepEqual(
      [...info],
      [
        ["role", "master"],
        ["x", "a:b"],
      ],
    );
    // No priority field: Redis's default replica-priority is 100; no link status is down.
    assert.deepEqual(replicaFacts(3, new Map()), {
      index: 3,
      priority: 100,
      offset: 0,
      runId: "",
      linkDown: true,
    });
    assert.equal(replicaFacts(0, parseInfo("replica_priority:7\n")).priority, 7);
  });

  describe("against a real master and replica", () => {
    let master: Redis;
    let replica: Redis;
    let ports: number[] = [];
    before(async () => {
      ports = await freePorts(2);
      await startRedis(ports[0]);
      await startRedis(ports[1], [
        "--replicaof",
        "127.0.0.1",
        String(ports[0]),
        "--replica-priority",
        "42",
        "--repl-diskless-sync-delay",
        "0",
      ]);
      master = new Redis({ port: ports[0], lazyConnect: true });
      replica = new Redis({ port: ports[1], lazyConnect: true });
      await master.connect();
      await replica.connect();
    });
    after(async () => {
      master?.disconnect();
      replica?.disconnect();
      await stopAll();
    });

    test("ROLE of both sides and the replica's INFO facts", async () => {
      await master.set("k", "v");
      const deadline = Date.now() + 10_000;
      let facts: ReplicaFacts | undefined;
      while (Date.now() < deadline) {
        facts = replicaFacts(1, parseInfo(String(await replica.info())));
        // The master lists a replica in ROLE once it is online there, a moment after the
        // replica's own link is up: wait for both sides.
        const role = parseRole(await master.call("ROLE"));
        const listed = role?.role === "master" && role.replicas.some((x) => x.port === ports[1]);
        if (!facts.linkDown && facts.offset > 0 && listed) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(facts && !facts.linkDown, "replica linked");
      assert.equal(facts.priority, 42);
      assert.match(facts.runId, /^[0-9a-f]{40}$/);
      const m = parseRole(await master.call("ROLE"));
      assert.equal(m?.role, "master");
      assert.ok(m?.role === "master" && m.offset > 0);
      assert.deepEqual(m?.role === "master" ? m.replicas.map((r) => r.port) : [], [ports[1]]);
      const r = parseRole(await replica.call("ROLE"));
      assert.ok(r?.role === "replica");
      assert.equal(r.masterPort, ports[0]);
      assert.equal(r.state, "connected");
      assert.ok(r.offset > 0);
      const mi = parseInfo(String(await master.info("replication")));
      assert.equal(mi.get("role"), "master");
      assert.equal(mi.get("connected_slaves"), "1");
    });
  });
});
