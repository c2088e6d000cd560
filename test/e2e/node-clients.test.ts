/**
 * Real npm clients against `keepcache node`: memjs (binary protocol) and memcache-client
 * (text protocol) do set, get, cas and incr round trips as their users would.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MemcacheClient } from "memcache-client";
import memjs from "memjs";
import { stopAll } from "../../tools/procs.js";
import { type NodeProc, startNode } from "../helpers/keepcache.js";

describe("npm clients against keepcache node", () => {
  let node: NodeProc;
  before(async () => {
    node = await startNode();
  });
  after(stopAll);

  test("memjs (binary): set, get, add, delete, incr, decr, flush", async () => {
    const c = memjs.Client.create(`127.0.0.1:${node.port}`, { retries: 0, timeout: 2 });
    try {
      assert.equal(await c.set("mj:a", "hello", { expires: 0 }), true);
      const got = await c.get("mj:a");
      assert.equal(got.value?.toString(), "hello");
      assert.equal(await c.add("mj:a", "again", {}), false);
      const big = Buffer.alloc(100_000, 7);
      await c.set("mj:big", big, {});
      assert.deepEqual((await c.get("mj:big")).value, big);
      await c.set("mj:n", "10", {});
      const inc = await c.increment("mj:n", 5, {});
      assert.equal(inc.value, 15);
      const dec = await c.decrement("mj:n", 100, {});
      assert.equal(dec.value, 0, "decr stops at 0");
      assert.equal(await c.delete("mj:a"), true);
      assert.equal((await c.get("mj:a")).value, null);
      assert.equal(await c.flush().then(() => true), true);
      assert.equal((await c.get("mj:big")).value, null);
    } finally {
      c.close();
    }
  });

  test("memcache-client (text): set, get, multi-get, gets + cas, incr, touch", async () => {
    const c = new MemcacheClient({ server: `127.0.0.1:${node.port}`, cmdTimeout: 2000 });
    try {
      assert.deepEqual(await c.set("mc:a", "one"), ["STORED"]);
      assert.equal((await c.get<string>("mc:a"))?.value, "one");
      await c.set("mc:b", "two");
      const multi = (await c.get<string>(["mc:a", "mc:b", "mc:none"])) as unknown as Record<
        string,
        { value: string }
      >;
      assert.equal(multi["mc:a"].value, "one");
      assert.equal(multi["mc:b"].value, "two");
      assert.equal(multi["mc:none"], undefined);
      const g = (await c.gets<string>("mc:a")) as unknown as {
        value: string;
        casUniq: number | string;
      };
      assert.ok(g.casUniq !== undefined);
      assert.deepEqual(await c.cas("mc:a", "uno", { casUniq: g.casUniq }), ["STORED"]);
      await assert.rejects(c.cas("mc:a", "stale", { casUniq: g.casUniq }), /EXISTS/);
      assert.equal((await c.get<string>("mc:a"))?.value, "uno");
      await c.set("mc:n", "41");
      assert.equal(Number(await c.incr("mc:n", 1)), 42);
      assert.deepEqual(await c.touch("mc:n", 100), ["TOUCHED"]);
    } finally {
      c.shutdown();
    }
  });
});
