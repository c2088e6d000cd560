/** Three real nodes in a full mesh: writes on every node converge everywhere. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { Cluster, call, eventually, getMany, stats, waitOnline } from "./replication-cluster.js";

describe("replication: 3-node mesh", () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start(3);
    await waitOnline(c);
  });
  after(() => stopAll());

  test("writes on all three nodes converge on every node", async () => {
    const want = new Map<string, string>();
    await Promise.all(
      c.nodes.map(async (n) => {
        const cl = await RawClient.connect(n.port);
        let cmds = "";
        for (let i = 0; i < 300; i++) {
          const k = `n${n.index}-k${i}`;
          const v = `v${n.index}-${i}-${"x".repeat(i % 50)}`;
          want.set(k, v);
          cmds += `set ${k} 0 0 ${v.length}\r\n${v}\r\n`;
        }
        cl.write(cmds);
        let got = "";
        while ((got.match(/STORED\r\n/g) ?? []).length < 300) got += await cl.readUntil("\r\n");
        cl.close();
      }),
    );
    const keys = [...want.keys()];
    for (const n of c.nodes) {
      const ok = await eventually(
        async () => (await getMany(n.port, keys)).size === keys.length,
        5000,
      );
      assert.ok(ok, `node ${n.index} did not get every key`);
      const got = await getMany(n.port, keys);
      for (const [k, v] of want) assert.equal(got.get(k), v, `node ${n.index} key ${k}`);
    }
  });

  test("deletes, incr, append, touch and flush_all replicate as resulting state", async () => {
    const [a, b, d] = c.nodes;
    // Each step waits until every node saw the previous one: the test checks propagation of
    // each kind of write, not what concurrent writers would do (see the race test for that).
    const everywhere = async (want: Record<string, string | undefined>) => {
      for (const n of c.nodes) {
        const ok = await eventually(async () => {
          const m = await getMany(n.port, Object.keys(want));
          return Object.entries(want).every(([k, v]) => m.get(k) === v);
        }, 3000);
        assert.ok(ok, `node ${n.index} never reached ${JSON.stringify(want)}`);
      }
    };
    assert.equal(await call(a.port, "set del1 0 0 1\r\nx\r\n"), "STORED\r\n");
    assert.equal(await call(a.port, "set cnt 0 0 1\r\n5\r\n"), "STORED\r\n");
    await everywhere({ del1: "x", cnt: "5" });
    assert.equal(await call(b.port, "delete del1\r\n"), "DELETED\r\n");
    await everywhere({ del1: undefined });
    assert.equal(await call(d.port, "incr cnt 10\r\n"), "15\r\n");
    await everywhere({ cnt: "15" });
    assert.equal(await call(b.port, "append cnt 0 0 1\r\n0\r\n"), "STORED\r\n");
    await everywhere({ cnt: "150" });
    assert.equal(await call(a.port, "touch cnt 1000\r\n"), "TOUCHED\r\n");
    assert.equal(await call(b.port, "set tmp 0 0 1\r\nt\r\n"), "STORED\r\n");
    await everywhere({ cnt: "150", tmp: "t" });
    assert.equal(await call(d.port, "flush_all\r\n"), "OK\r\n");
    for (const n of c.nodes) {
      assert.ok(await eventually(async () => (await getMany(n.port, ["cnt"])).size === 0, 3000));
    }
  });

  test("gets on one node, cas on another succeeds when nothing changed", async () => {
    const [a, b] = c.nodes;
    assert.equal(await call(a.port, "set ck 0 0 2\r\nv1\r\n"), "STORED\r\n");
    const line = await call(a.port, "gets ck\r\n", "END\r\n");
    const cas = line.split("\r\n")[0].split(" ")[4];
    assert.ok(
      await eventually(async () => (await getMany(b.port, ["ck"])).get("ck") === "v1", 3000),
    );
    assert.equal(await call(b.port, `cas ck 0 0 2 ${cas}\r\nv2\r\n`), "STORED\r\n");
    assert.equal(await call(b.port, `cas ck 0 0 2 ${cas}\r\nv3\r\n`), "EXISTS\r\n");
    assert.ok(
      await eventually(async () => (await getMany(a.port, ["ck"])).get("ck") === "v2", 3000),
    );
  });

  test("concurrent writes to the same keys on two nodes end equal everywhere", async () => {
    const [a, b] = c.nodes;
    const keys = Array.from({ length: 50 }, (_, i) => `race${i}`);
    const writer = async (port: number, tag: string) => {
      const cl = await RawClient.connect(port);
      let cmds = "";
      for (let round = 0; round < 10; round++) {
        for (const k of keys)
          cmds += `set ${k} 0 0 ${tag.length + 2}\r\n${tag}${String(round).padStart(2, "0")}\r\n`;
      }
      cl.write(cmds);
      let got = "";
      while ((got.match(/STORED\r\n/g) ?? []).length < keys.length * 10)
        got += await cl.readUntil("\r\n");
      cl.close();
    };
    await Promise.all([writer(a.port, "A"), writer(b.port, "B")]);
    const same = async () => {
      const views = await Promise.all(c.nodes.map((n) => getMany(n.port, keys)));
      return keys.every(
        (k) => views[0].get(k) !== undefined && views.every((v) => v.get(k) === views[0].get(k)),
      );
    };
    assert.ok(await eventually(same, 5000), "values differ between nodes");
    const s = await stats(a.port);
    assert.ok(Number(s.get("repl_mutations_applied")) > 0);
    assert.equal(s.get(`peer:127.0.0.1:${b.replPort}:state`), "online");
  });
});
