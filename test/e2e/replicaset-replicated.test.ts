/**
 * A `replicated: true` memcached replica set over two keepcache nodes that replicate between
 * themselves (`keepcache node -x`), as `keepcache up` runs it: `write: one` goes to
 * the primary only, and a node that returns after a kill -9 is read from ONLY once its own
 * replication reports every peer link online (its full sync is done). Checked with a
 * round-robin read load through the proxy (every read must hit, so a read of the still-empty
 * node would show as a miss) and a sampler of the returning node's own stats: no `get`
 * reaches it while a peer link is not online. The set's transitions (down, warming, warm)
 * reach the admin event ring in that order.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { EventRing } from "../../src/admin/events.js";
import { attachReplicaSetEvents } from "../../src/admin/sources/replicaset.js";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nodeArgs(port: number, repl: number, peerRepl: number, id: number): string[] {
  return [
    keepcacheBin(),
    "node",
    "-p",
    String(port),
    "-l",
    "127.0.0.1",
    "-m",
    "32",
    "--node-id",
    String(id),
    "-x",
    `127.0.0.1:${peerRepl}`,
    "--replication-port",
    String(repl),
  ];
}

async function stats(port: number): Promise<{ getCmds: number; items: number; online: boolean }> {
  const s = await exchange(port, "stats\r\n", (t) => t.endsWith("END\r\n"), 1000);
  const states = [...s.matchAll(/^STAT peer:\S+:state (\S+)/gm)].map((m) => m[1]);
  return {
    getCmds: Number(/STAT cmd_get (\d+)/.exec(s)?.[1] ?? 0),
    items: Number(/STAT curr_items (\d+)/.exec(s)?.[1] ?? 0),
    online: states.length > 0 && states.every((x) => x === "online" || x === "self"),
  };
}

describe("replicated keepcache replica set", { timeout: 60_000 }, () => {
  let proxy: RunningProxy | undefined;
  let detach: (() => void) | undefined;
  after(async () => {
    detach?.();
    await proxy?.stop();
    await stopAll();
  });

  test("a returning node serves reads only after its replication is in sync", async () => {
    const [a, aRepl, b, bRepl, listen] = await freePorts(5);
    const env = { ...process.env, KEEPCACHE_LOG_FORMAT: "json" };
    const startB = () => start(process.execPath, nodeArgs(b, bRepl, aRepl, 2), { port: b, env });
    await start(process.execPath, nodeArgs(a, aRepl, bRepl, 1), { port: a, env });
    let nodeB: Proc = await startB();
    proxy = await startProxy(
      [
        "kc:",
        `  listen: 127.0.0.1:${listen}`,
        "  timeout: 500",
        "  servers:",
        "    - name: pair",
        "      replicated: true",
        "      write: one",
        "      read: round-robin",
        "      warm_timeout: 10000",
        "      members:",
        `        - { address: "127.0.0.1:${a}" }`,
        `        - { address: "127.0.0.1:${b}" }`,
      ].join("\n"),
    );
    const ring = new EventRing(100);
    detach = attachReplicaSetEvents(proxy.proxy, ring).detach;
    const set = proxy.proxy.pools_.get("kc")?.servers[0];
    assert.ok(set?.kind === "set");
    const healthB = (): string => set.view.members[1].health;

    const cl = await RawClient.connect(proxy.port());
    const N = 400;
    const value = "x".repeat(200);
    // Written while B is down: B can only have them through its own (full) sync from A.
    nodeB.child.kill("SIGKILL");
    const deadline = Date.now() + 3000;
    while (healthB() !== "down") {
      assert.ok(Date.now() < deadline, "the set never saw B down");
      await sleep(20);
    }
    for (let i = 0; i < N; i++)
      assert.equal(
        await cl.call(`set r${i} 0 0 ${value.length}\r\n${value}\r\n`),
        "STORED\r\n",
        `write ${i}`,
      );

    let running = true;
    let reads = 0;
    const misses: string[] = [];
    const reader = (async () => {
      const r = await RawClient.connect(proxy.port());
      for (let i = 0; running && i < 100_000; i++) {
        const k = `r${i % N}`;
        const got = await r.call(`get ${k}\r\n`, "END\r\n");
        reads++;
        if (!got.startsWith(`VALUE ${k} `)) misses.push(got.slice(0, 60));
      }
      r.close();
    })();
    // Samples B's own view: a get counted while a peer link is not online breaks the rule.
    const violations: string[] = [];
    let sampledOnline = false;
    const sampler = (async () => {
      for (let i = 0; running && i < 2000; i++) {
        const s = await stats(b).catch(() => undefined);
        if (s !== undefined) {
          if (!s.online && s.getCmds > 0) violations.push(JSON.stringify(s));
          if (s.online) sampledOnline = true;
        }
        await sleep(5);
      }
    })();
    await sleep(200);
    nodeB = await startB();
    const until = Date.now() + 10_000;
    while (healthB() !== "up") {
      assert.ok(Date.now() < until, `B never served again: ${healthB()}`);
      await sleep(20);
    }
    await sleep(300);
    running = false;
    await Promise.all([reader, sampler]);
    cl.close();

    assert.deepEqual(misses, [], `${misses.length} of ${reads} reads missed`);
    assert.deepEqual(violations, []);
    assert.ok(sampledOnline);
    const bNow = await stats(b);
    assert.equal(bNow.items, N, "B holds every key after its sync");
    assert.ok(bNow.getCmds > 0, "B serves reads again (round-robin)");
    const seq = ring
      .list()
      .filter((e) => e.subject === `kc/pair/127.0.0.1:${b}`)
      .map((e) => e.kind);
    assert.deepEqual(seq.slice(0, 3), ["health", "replication", "restore"], JSON.stringify(seq));
    const warm = ring.list().find((e) => e.kind === "restore");
    assert.match(warm?.message ?? "", /warm, serves reads \(replication online\)/);
  });
});
