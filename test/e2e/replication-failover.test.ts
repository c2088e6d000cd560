/**
 * Replication under failure, with real processes: kill -9 under a sync-mode write load (no
 * acknowledged write lost), restart (full sync, no manual step), SIGSTOP/SIGCONT longer than the
 * peer timeout (reconnect, partial sync), and a backlog too small for the gap (full sync).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { freeze, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { Cluster, call, eventually, getMany, stats, waitOnline } from "./replication-cluster.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pipelined sets on one connection until stopped; returns the keys answered STORED. */
async function writer(
  port: number,
  prefix: string,
  stop: { done: boolean },
): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  const c = await RawClient.connect(port);
  const deadline = Date.now() + 10_000;
  try {
    for (let i = 0; !stop.done && !c.closed && Date.now() < deadline && i < 100_000; i += 10) {
      let cmds = "";
      const batch: Array<[string, string]> = [];
      for (let j = i; j < i + 10; j++) {
        const k = `${prefix}${j}`;
        const v = `val-${j}`;
        batch.push([k, v]);
        cmds += `set ${k} 0 0 ${v.length}\r\n${v}\r\n`;
      }
      c.write(cmds);
      for (const [k, v] of batch) {
        const line = await c.readUntil("\r\n", 2000).catch(() => "");
        if (line === "STORED\r\n") acked.set(k, v);
        else if (line === "") return acked;
      }
    }
  } finally {
    c.close();
  }
  return acked;
}

describe("replication: failures", () => {
  after(() => stopAll());

  test("kill -9 under sync-mode load loses no acknowledged write; restart catches up by full sync", async () => {
    const c = await Cluster.start(3, () => [
      "--sync-replication=2",
      "--sync-timeout",
      "2s",
      "--peer-timeout",
      "1s",
    ]);
    await waitOnline(c);
    const [a, b, d] = c.nodes;
    const stop = { done: false };
    const load = Promise.all([
      writer(a.port, "w0-", stop),
      writer(a.port, "w1-", stop),
      writer(a.port, "w2-", stop),
    ]);
    await sleep(400);
    a.proc.child.kill("SIGKILL");
    await sleep(100);
    stop.done = true;
    const acked = new Map<string, string>();
    for (const m of await load) for (const [k, v] of m) acked.set(k, v);
    assert.ok(acked.size > 50, `only ${acked.size} writes acknowledged before the kill`);
    const keys = [...acked.keys()];
    for (const n of [b, d]) {
      const got = await getMany(n.port, keys);
      for (const [k, v] of acked)
        assert.equal(got.get(k), v, `survivor ${n.index} lost acknowledged ${k}`);
    }
    // Restart: a new incarnation with an empty store pulls everything (full sync) on its own.
    await a.proc.stop("SIGKILL");
    await c.launch(a);
    await waitOnline(c);
    assert.ok(
      await eventually(async () => (await getMany(a.port, keys)).size === keys.length, 10_000),
    );
    const s = await stats(a.port);
    assert.equal(s.get(`peer:127.0.0.1:${b.replPort}:last_sync`), "full");
    assert.equal(s.get(`peer:127.0.0.1:${d.replPort}:last_sync`), "full");
    // Sync mode with a dead quorum: the client hears a timeout, never a silent success.
    await b.proc.stop("SIGKILL");
    await d.proc.stop("SIGKILL");
    const t0 = Date.now();
    assert.equal(
      await call(a.port, "set lonely 0 0 1\r\nx\r\n"),
      "SERVER_ERROR replication timeout\r\n",
    );
    assert.ok(Date.now() - t0 >= 1900);
    assert.equal(
      await call(a.port, "get lonely\r\n", "END\r\n"),
      "VALUE lonely 0 1\r\nx\r\nEND\r\n",
    );
    await a.proc.stop("SIGKILL");
  });

  test("SIGSTOP longer than the peer timeout, SIGCONT: reconnects, partial sync, converges", async () => {
    const c = await Cluster.start(2, () => ["--peer-timeout", "600ms"]);
    await waitOnline(c);
    const [a, b] = c.nodes;
    await freeze(b.proc.child);
    const keys: string[] = [];
    let cmds = "";
    for (let i = 0; i < 200; i++) {
      keys.push(`p${i}`);
      cmds += `set p${i} 0 0 2\r\nv${i % 10}\r\n`;
    }
    const cl = await RawClient.connect(a.port);
    cl.write(cmds);
    let got = "";
    while ((got.match(/STORED/g) ?? []).length < 200) got += await cl.readUntil("\r\n");
    cl.close();
    await sleep(1200);
    const down = await stats(a.port);
    assert.notEqual(down.get(`peer:127.0.0.1:${b.replPort}:state`), "online");
    b.proc.child.kill("SIGCONT");
    await waitOnline(c);
    assert.ok(await eventually(async () => (await getMany(b.port, keys)).size === 200, 5000));
    const s = await stats(b.port);
    assert.equal(s.get(`peer:127.0.0.1:${a.replPort}:last_sync`), "partial");
    await a.proc.stop("SIGKILL");
    await b.proc.stop("SIGKILL");
  });

  test("a gap larger than the backlog is healed by a full sync", async () => {
    const c = await Cluster.start(2, () => [
      "-I",
      "1k",
      "--replication-backlog",
      "16k",
      "--peer-timeout",
      "600ms",
    ]);
    await waitOnline(c);
    const [a, b] = c.nodes;
    await freeze(b.proc.child);
    const keys: string[] = [];
    let cmds = "";
    const v = "z".repeat(100);
    for (let i = 0; i < 1000; i++) {
      keys.push(`f${i}`);
      cmds += `set f${i} 0 0 100\r\n${v}\r\n`;
    }
    const cl = await RawClient.connect(a.port);
    cl.write(cmds);
    let got = "";
    while ((got.match(/STORED/g) ?? []).length < 1000) got += await cl.readUntil("\r\n");
    cl.close();
    await sleep(1200);
    b.proc.child.kill("SIGCONT");
    await waitOnline(c);
    assert.ok(await eventually(async () => (await getMany(b.port, keys)).size === 1000, 5000));
    const s = await stats(b.port);
    assert.equal(s.get(`peer:127.0.0.1:${a.replPort}:last_sync`), "full");
    await a.proc.stop("SIGKILL");
    await b.proc.stop("SIGKILL");
  });
});
