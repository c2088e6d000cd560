import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { TcpBalancer } from "../../src/tcp/balancer.js";
import type { TcpServiceShape } from "../../src/tcp/snapshot.js";
import { freePort } from "../../tools/ports.js";
import {
  startBackends,
  type TestServer,
  tcpCheck,
  tcpService,
  until,
  wait,
} from "../helpers/tcp-backends.js";

/** A service with a fast TCP check (rise/fall 2), as every test here wants. */
const service = (port: number, servers: TestServer[], extra: Record<string, unknown> = {}) =>
  tcpService(port, servers, {
    check: tcpCheck(2, 200),
    ...extra,
  });

const srv = (port: number, weight = 1, backup = false): TestServer => ({ port, weight, backup });

/** Connects, returns the greeting line (the backend's name), leaves the socket open if asked. */
function greet(port: number, keep = false): Promise<{ name: string; sock: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let buf = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error("no greeting in 3 s"));
    }, 3000);
    s.on("data", (d) => {
      buf += d.toString();
      const i = buf.indexOf("\n");
      if (i >= 0) {
        clearTimeout(t);
        if (!keep) s.end();
        resolve({ name: buf.slice(0, i), sock: s });
      }
    });
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on("close", () => {
      clearTimeout(t);
      reject(new Error("closed without greeting"));
    });
  });
}

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const backends = (...names: string[]) => startBackends(cleanup, ...names);

async function balancer(cfg: TcpServiceShape): Promise<TcpBalancer> {
  const lb = new TcpBalancer({ svc: cfg });
  await lb.start();
  cleanup.push(() => lb.stop());
  return lb;
}

describe("tcp balancer end to end", () => {
  test("wrr weights hold over 1000 connections", async () => {
    const [a, b] = await backends("a", "b");
    const port = await freePort();
    const lb = await balancer(service(port, [srv(a.port, 3), srv(b.port, 1)]));
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let round = 0; round < 50; round++) {
      const r = await Promise.all(Array.from({ length: 20 }, () => greet(port)));
      for (const x of r) counts[x.name]++;
    }
    assert.equal(counts.a + counts.b, 1000);
    assert.ok(Math.abs(counts.a - 750) <= 10, JSON.stringify(counts));
    const c = lb.services.get("svc")?.counters;
    assert.equal(c?.connectionsTotal, 1000);
    await until(() => lb.services.get("svc")?.counters.active === 0);
  });

  test("a killed backend goes down after `fall`, gets no new connections, returns after `rise`", async () => {
    const [a, b] = await backends("a", "b");
    const port = await freePort();
    const lb = await balancer(service(port, [srv(a.port), srv(b.port)], { balance: "rr" }));
    const prober = lb.prober;
    const id = `svc/127.0.0.1:${b.port}`;
    await b.stop();
    await until(() => prober.status(id)?.state === "down");
    const st = prober.status(id);
    assert.ok(st && st.transitions === 1);
    for (let i = 0; i < 20; i++) assert.equal((await greet(port)).name, "a");
    await b.start();
    await until(() => prober.status(id)?.state === "up");
    const names = new Set<string>();
    for (let i = 0; i < 10; i++) names.add((await greet(port)).name);
    assert.deepEqual([...names].sort(), ["a", "b"]);
    assert.equal(lb.services.get("svc")?.counters.transitions, 2);
  });

  test("backup is used only when primaries are down; sorry server when all are", async () => {
    const [a, bk, sorry] = await backends("a", "backup", "sorry");
    const port = await freePort();
    const lb = await balancer(
      service(port, [srv(a.port), srv(bk.port, 1, true)], {
        sorry_server: `127.0.0.1:${sorry.port}`,
      }),
    );
    for (let i = 0; i < 5; i++) assert.equal((await greet(port)).name, "a");
    await a.stop();
    await until(() => lb.prober.status(`svc/127.0.0.1:${a.port}`)?.state === "down");
    assert.equal((await greet(port)).name, "backup");
    await bk.stop();
    await until(() => lb.prober.status(`svc/127.0.0.1:${bk.port}`)?.state === "down");
    assert.equal((await greet(port)).name, "sorry");
  });

  test("maxconn queues clients FIFO; queue_timeout closes waiting clients", async () => {
    const [a] = await backends("a");
    const port = await freePort();
    const lb = await balancer(service(port, [srv(a.port)], { maxconn: 1, queue_timeout: 300 }));
    const c = lb.services.get("svc")?.counters;
    const first = await greet(port, true);
    const second = greet(port);
    await until(() => c?.queueLength === 1);
    const early = await Promise.race([
      second.then(() => "served"),
      wait(100).then(() => "waiting"),
    ]);
    assert.equal(early, "waiting");
    first.sock.end();
    assert.equal((await second).name, "a");
    const hold = await greet(port, true);
    const t0 = Date.now();
    await assert.rejects(greet(port));
    assert.ok(Date.now() - t0 >= 250);
    assert.equal(c?.queueTimeouts, 1);
    hold.sock.destroy();
  });

  test("PROXY v2 header reaches the server before the client's bytes; half-close works", async () => {
    const port = await freePort();
    const bport = await freePort();
    let got = Buffer.alloc(0);
    const b = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on("data", (d) => (got = Buffer.concat([got, d])));
      s.on("end", () => s.end(`reply after FIN: ${got.length}`));
    });
    await new Promise<void>((r) => b.listen(bport, "127.0.0.1", r));
    cleanup.push(() => new Promise((r) => b.close(() => r())));
    await balancer(service(port, [srv(bport)], { proxy_protocol: "v2", check: undefined }));
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let out = "";
      s.on("data", (d) => (out += d));
      s.on("end", () => resolve(out));
      s.on("error", reject);
      s.end("hello");
    });
    assert.equal(got.subarray(0, 12).toString("hex"), "0d0a0d0a000d0a515549540a");
    assert.equal(got.subarray(12, 16).toString("hex"), "2111000c");
    assert.equal(got.subarray(16, 20).toString("hex"), "7f000001");
    assert.equal(got.readUInt16BE(26), port);
    assert.equal(got.subarray(28).toString(), "hello");
    assert.equal(reply, `reply after FIN: ${28 + 5}`);
  });
});
