import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseConfig } from "../../../src/config/index.js";
import { electReplica, witnessesConfirm } from "../../../src/failover/elect.js";
import { parseInfo, parseRole, replicaFacts } from "../../../src/failover/info.js";
import { parseMetadump, percentDecode } from "../../../src/failover/memcache-warm.js";
import { reconfigArgs } from "../../../src/failover/notify.js";
import { parseSwitchMaster } from "../../../src/failover/sentinel.js";
import { type ClientState, ParseResult, type Plan, ReplyClass } from "../../../src/proxy/driver.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { memcacheReplyClass } from "../../../src/proxy/memcache/reply-class.js";
import { redisDriver } from "../../../src/proxy/redis/driver.js";
import { redisReplyClass } from "../../../src/proxy/redis/reply-class.js";
import { FAILED, WriteMerge } from "../../../src/proxy/replicaset/merge.js";
import { ReadPicker } from "../../../src/proxy/replicaset/pick.js";
import { requiredAcks } from "../../../src/proxy/replicaset/policy.js";
import { initialView, nextView } from "../../../src/proxy/replicaset/view.js";

const cls = (s: string, f = memcacheReplyClass) => f(Buffer.from(s, "latin1"), 0, s.length);

describe("reply and request classification", () => {
  test("memcached text, meta and binary replies", () => {
    assert.equal(cls("VALUE k 0 1\r\nv\r\nEND\r\n"), ReplyClass.Ok);
    assert.equal(cls("END\r\n"), ReplyClass.Miss);
    assert.equal(cls("EN\r\n"), ReplyClass.Miss);
    assert.equal(cls("STORED\r\n"), ReplyClass.Ok);
    assert.equal(cls("HD\r\n"), ReplyClass.Ok);
    assert.equal(cls("NOT_STORED\r\n"), ReplyClass.Refused);
    assert.equal(cls("EXISTS\r\n"), ReplyClass.Refused);
    assert.equal(cls("NOT_FOUND\r\n"), ReplyClass.Refused);
    assert.equal(cls("NS\r\n"), ReplyClass.Refused);
    assert.equal(cls("ERROR\r\n"), ReplyClass.Error);
    assert.equal(cls("SERVER_ERROR out of memory\r\n"), ReplyClass.Error);
    assert.equal(cls("CLIENT_ERROR bad\r\n"), ReplyClass.Error);
    assert.equal(cls("42\r\n"), ReplyClass.Ok);
    const bin = Buffer.alloc(24);
    bin[0] = 0x81;
    assert.equal(memcacheReplyClass(bin, 0, 24), ReplyClass.Ok);
    bin[7] = 1;
    assert.equal(memcacheReplyClass(bin, 0, 24), ReplyClass.Miss);
    bin[7] = 5;
    assert.equal(memcacheReplyClass(bin, 0, 24), ReplyClass.Refused);
    bin[7] = 0x82;
    assert.equal(memcacheReplyClass(bin, 0, 24), ReplyClass.Error);
  });

  test("redis replies: role changes are told apart from other errors", () => {
    const r = (s: string) => cls(s, redisReplyClass);
    assert.equal(
      r("-READONLY You can't write against a read only replica.\r\n"),
      ReplyClass.RoleChange,
    );
    assert.equal(r("-LOADING Redis is loading the dataset in memory\r\n"), ReplyClass.RoleChange);
    assert.equal(r("-MASTERDOWN Link with MASTER is down\r\n"), ReplyClass.RoleChange);
    assert.equal(r("-READONLYX\r\n"), ReplyClass.Error);
    assert.equal(r("-WRONGTYPE Operation\r\n"), ReplyClass.Error);
    assert.equal(r("!9\r\nLOADING x\r\n"), ReplyClass.RoleChange);
    assert.equal(r("$-1\r\n"), ReplyClass.Miss);
    assert.equal(r("_\r\n"), ReplyClass.Miss);
    assert.equal(r("+OK\r\n"), ReplyClass.Ok);
    assert.equal(r("$1\r\nv\r\n"), ReplyClass.Ok);
  });

  test("read-only requests (split parts, broadcasts): the drivers' plans say so", () => {
    const state: ClientState = {
      authenticated: false,
      password: undefined,
      resp3: false,
      pinned: -1,
      // Four servers, each key on its own: multi-key requests split.
      shardOf: (b, s, e) => (e > s ? b[s] % 4 : 0),
      servers: 4,
      dedicated: -1,
      streaming: false,
      dropDedicated: () => {},
    };
    const planOf = (driver: typeof memcacheDriver, text: string): Plan => {
      const p = driver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
      p.feed(Buffer.from(text, "latin1"));
      assert.equal(p.next(), ParseResult.Plan, p.errorReply?.toString());
      return p.plan as Plan;
    };
    const readOnly = (plan: Plan) => {
      assert.ok(plan.kind === "split" || plan.kind === "broadcast", plan.kind);
      return plan.readOnly;
    };
    const mc = (s: string) => readOnly(planOf(memcacheDriver, s));
    const rd = (s: string) => readOnly(planOf(redisDriver, s));
    assert.ok(mc("get a b c d\r\n") && mc("gets a b c d\r\n") && mc("stats\r\n"));
    assert.ok(!mc("flush_all\r\n") && !mc("verbosity 1\r\n"));
    assert.ok(rd("*5\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"));
    assert.ok(rd("*3\r\n$6\r\nexists\r\n$1\r\na\r\n$1\r\nb\r\n"));
    assert.ok(!rd("*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"));
    assert.ok(!rd("*1\r\n$8\r\nFLUSHALL\r\n"));
  });
});

describe("write merge (all / majority / one)", () => {
  test("all: the worst reply wins; ties go to the earliest member", () => {
    const m = new WriteMerge([0, 1, 2], requiredAcks("all", 3, 3));
    assert.equal(m.add(1, ReplyClass.Ok), -1);
    assert.equal(m.add(0, ReplyClass.Refused), 0);
    const m2 = new WriteMerge([0, 1, 2], 3);
    m2.add(2, ReplyClass.Ok);
    m2.add(1, ReplyClass.Ok);
    assert.equal(m2.add(0, ReplyClass.Ok), 0);
    const m3 = new WriteMerge([0, 1], 2);
    assert.equal(m3.add(1, FAILED), 1);
  });

  test("majority decides at the quorum with the earliest Ok; one decides at the first Ok", () => {
    const m = new WriteMerge([0, 1, 2], requiredAcks("majority", 3, 3));
    assert.equal(m.add(2, ReplyClass.Ok), -1);
    assert.equal(m.add(1, ReplyClass.Ok), 1);
    assert.equal(m.add(0, ReplyClass.Ok), -1, "later replies are dropped");
    const o = new WriteMerge([0, 1, 2], requiredAcks("one", 3, 3));
    assert.equal(o.add(2, ReplyClass.Ok), 2);
  });

  test("property: exactly one decision, Ok when and only when the quorum acknowledged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 2, 3, FAILED), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer(),
        (outcomes, req0, seed) => {
          const n = outcomes.length;
          const required = Math.min(req0, n);
          const m = new WriteMerge(
            outcomes.map((_, i) => i),
            required,
          );
          const order = outcomes
            .map((_, i) => i)
            .sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13));
          const decisions = order.map((k) => m.add(k, outcomes[k])).filter((d) => d >= 0);
          assert.equal(decisions.length, 1);
          const oks = outcomes.filter((o) => o === ReplyClass.Ok).length;
          assert.equal(outcomes[decisions[0]] === ReplyClass.Ok, oks >= required);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("read picking", () => {
  const view = initialView(
    [
      { role: "master", weight: 1 },
      { role: "replica", weight: 2 },
      { role: "replica", weight: 3 },
    ],
    0,
  );

  test("weighted (any): exact proportions over each sum of weights", () => {
    const p = new ReadPicker("any", 3);
    const n = [0, 0, 0];
    for (let i = 0; i < 60; i++) n[p.pick(view, 0)]++;
    assert.deepEqual(n, [10, 20, 30]);
  });

  test("replica / prefer-replica / master, and failover through the tried mask", () => {
    const r = new ReadPicker("replica", 3);
    for (let i = 0; i < 10; i++) assert.notEqual(r.pick(view, 0), 0);
    assert.equal(r.pick(view, 0b110), -1, "replica never falls back to the master");
    const pr = new ReadPicker("prefer-replica", 3);
    assert.equal(pr.pick(view, 0b110), 0);
    const m = new ReadPicker("master", 3);
    assert.equal(m.pick(view, 0), 0);
    assert.equal(m.pick(view, 0b001), 1);
    const down = nextView(view, "t", {
      members: { 1: { health: "down" }, 2: { health: "warming" } },
    });
    const rr = new ReadPicker("round-robin", 3);
    for (let i = 0; i < 5; i++)
      assert.equal(rr.pick(down, 0), 0, "down and warming members get no reads");
  });

  test("least-outstanding and round-robin", () => {
    const lo = new ReadPicker("least-outstanding", 3);
    lo.outstanding[0] = 3;
    lo.outstanding[1] = 1;
    lo.outstanding[2] = 2;
    assert.equal(lo.pick(view, 0), 1);
    const rr = new ReadPicker("round-robin", 3);
    assert.deepEqual(
      [0, 1, 2, 3].map(() => rr.pick(view, 0)),
      [0, 1, 2, 0],
    );
  });

  test("a fenced or down member can never be the write target", () => {
    assert.throws(() => nextView(view, "t", { members: { 0: { health: "fenced" } } }));
    const v = nextView(view, "t", { writeTarget: 2, members: { 0: { health: "fenced" } } });
    assert.equal(v.writeTarget, 2);
  });
});

describe("failover decisions and formats", () => {
  test("ROLE and INFO replication", () => {
    assert.deepEqual(parseRole(["master", 10, [["127.0.0.1", "6380", "9"]]]), {
      role: "master",
      offset: 10,
      replicas: [{ host: "127.0.0.1", port: 6380, offset: 9 }],
    });
    const r = parseRole(["slave", "127.0.0.1", 6379, "connected", 42]);
    assert.equal(r?.role, "replica");
    const info = parseInfo(
      "# Replication\r\nrole:slave\r\nmaster_link_status:down\r\nslave_repl_offset:77\r\nslave_priority:50\r\n# Server\r\nrun_id:abc\r\n",
    );
    assert.deepEqual(replicaFacts(1, info), {
      index: 1,
      priority: 50,
      offset: 77,
      runId: "abc",
      linkDown: true,
    });
  });

  test("promotion order as Sentinel: priority (0 never), offset, run id", () => {
    const f = (index: number, priority: number, offset: number, runId: string) => ({
      index,
      priority,
      offset,
      runId,
      linkDown: true,
    });
    assert.equal(electReplica([f(1, 100, 5, "b"), f(2, 50, 1, "c")])?.index, 2);
    assert.equal(electReplica([f(1, 100, 5, "b"), f(2, 100, 9, "c")])?.index, 2);
    assert.equal(electReplica([f(1, 100, 9, "b"), f(2, 100, 9, "a")])?.index, 2);
    assert.equal(electReplica([f(1, 0, 99, "a")]), undefined);
    assert.ok(witnessesConfirm(2, 2) && !witnessesConfirm(2, 1) && witnessesConfirm(3, 2));
  });

  test("client-reconfig-script arguments and +switch-master payload", () => {
    assert.deepEqual(
      reconfigArgs({
        masterName: "mymaster",
        role: "leader",
        state: "failover",
        from: { host: "10.0.0.1", port: 6379 },
        to: { host: "10.0.0.2", port: 6380 },
      }),
      ["mymaster", "leader", "failover", "10.0.0.1", "6379", "10.0.0.2", "6380"],
    );
    assert.deepEqual(parseSwitchMaster("mymaster 127.0.0.1 6379 127.0.0.1 6380"), {
      name: "mymaster",
      from: { host: "127.0.0.1", port: 6379 },
      to: { host: "127.0.0.1", port: 6380 },
    });
    assert.equal(parseSwitchMaster("bad"), undefined);
  });

  test("metadump lines and uri-encoded keys", () => {
    assert.deepEqual([...percentDecode("a%20b%2Fc")], [...Buffer.from("a b/c")]);
    const keys = parseMetadump(
      "key=k1 exp=-1 la=1 cas=2 fetch=no cls=1 size=60\nkey=k%202 exp=100 la=1 cas=3 fetch=no cls=1 size=60\nkey=k3 exp=9999999999 la=1\nEND\r\n",
      1000,
    );
    assert.deepEqual(
      keys.map((k) => [k.key.toString(), k.exp]),
      [
        ["k1", 0],
        ["k3", 9999999999],
      ],
    );
  });
});

describe("replica set config", () => {
  test("members, policies and precise errors", () => {
    const yaml = (extra: string) =>
      `p:\n  listen: 127.0.0.1:22121\n  redis: true\n  servers:\n    - name: s1\n${extra}      members:\n        - { address: "127.0.0.1:7000", role: master }\n        - { address: "127.0.0.1:7001", weight: 2 }\n`;
    const cfg = parseConfig(yaml("      read: prefer-replica\n"), "t.yml");
    const s = cfg.pools[0].servers[0];
    assert.equal(s.kind, "replicaset");
    if (s.kind === "replicaset") {
      assert.equal(s.key, "s1");
      assert.equal(s.members[1].weight, 2);
      assert.equal(s.down_after, 1000);
    }
    assert.throws(() => parseConfig(yaml("      failover: sentinel\n"), "t.yml"), /sentinels/);
    assert.throws(
      () =>
        parseConfig(
          yaml('      failover: sentinel\n      sentinels: ["127.0.0.1:26379"]\n'),
          "t.yml",
        ),
      /master_name/,
    );
    assert.throws(() => parseConfig(yaml("      read: nearest\n"), "t.yml"), /t\.yml:\d+.*read/s);
  });
});
