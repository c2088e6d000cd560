/**
 * TCP balancer, live operation: reload with open connections, live byte counters, bulk bytes
 * through backpressure, worker processes (snapshots pushed over IPC, aggregated counters).
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { TcpBalancer, type TcpBalancerOptions } from "../../src/tcp/balancer.js";
import type { TcpServiceShape } from "../../src/tcp/snapshot.js";
import { freePort } from "../../tools/ports.js";
import {
  startBackends,
  tally,
  tcpCheck,
  tcpService,
  until,
  wait,
} from "../helpers/tcp-backends.js";

/** A client: its greeting line (the backend's name), and request/response after it. */
class Client {
  private buf = "";
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly sock: net.Socket) {
    sock.on("data", (d) => {
      this.buf += d.toString();
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new Client(s)));
      s.once("error", reject);
    });
  }
  /** Resolves with the next line; rejects after 3 s or on close. */
  async line(): Promise<string> {
    const end = Date.now() + 3000;
    for (;;) {
      const i = this.buf.indexOf("\n");
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        return l;
      }
      if (this.closed) throw new Error("closed");
      if (Date.now() > end) throw new Error("no line in 3 s");
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
  end(): void {
    this.sock.end();
  }
}

async function greet(port: number): Promise<string> {
  const c = await Client.open(port);
  const name = await c.line();
  c.end();
  return name;
}

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const backends = (...names: string[]) => startBackends(cleanup, ...names);

async function balancer(
  cfgs: Record<string, TcpServiceShape>,
  opts: TcpBalancerOptions = {},
): Promise<TcpBalancer> {
  const lb = new TcpBalancer(cfgs, opts);
  await lb.start();
  cleanup.push(() => lb.stop());
  return lb;
}

describe("tcp balancer: reload, live counters, workers", () => {
  test("reload keeps the listener and open connections; new servers take new connections", async () => {
    const [a, b] = await backends("a", "b");
    const port = await freePort();
    const lb = await balancer({ svc: tcpService(port, [a.port]) });
    const held = await Client.open(port);
    assert.equal(await held.line(), "a");

    const sum = await lb.reload({ svc: tcpService(port, [b.port]) });
    assert.deepEqual(sum, { added: [], removed: [], changed: ["svc"], rebound: [] });
    held.sock.write("still here\n");
    assert.equal(await held.line(), "still here", "the open connection still relays");
    for (let i = 0; i < 5; i++) assert.equal(await greet(port), "b");

    // A second service added and the first one's listen address changed in one reload.
    const port2 = await freePort();
    const port3 = await freePort();
    const sum2 = await lb.reload({
      svc: tcpService(port3, [b.port]),
      other: tcpService(port2, [a.port]),
    });
    assert.deepEqual(sum2, { added: ["other"], removed: [], changed: [], rebound: ["svc"] });
    held.sock.write("after rebind\n");
    assert.equal(await held.line(), "after rebind", "a drained listener's connection lives on");
    assert.equal(await greet(port3), "b");
    assert.equal(await greet(port2), "a");
    await assert.rejects(greet(port), "the old listen port is closed");

    const sum3 = await lb.reload({ other: tcpService(port2, [a.port]) });
    assert.deepEqual(sum3.removed, ["svc"]);
    held.sock.write("removed service\n");
    assert.equal(await held.line(), "removed service");
    held.end();
    await until(() => held.closed);
  });

  test("byte counters move while a connection is open, and stay after it closes", async () => {
    const [a] = await backends("a");
    const port = await freePort();
    const lb = await balancer({ svc: tcpService(port, [a.port]) });
    const c = await Client.open(port);
    await c.line();
    const payload = `${"x".repeat(9999)}\n`;
    c.sock.write(payload);
    assert.equal((await c.line()).length, 9999);
    const live = lb.liveCounters("svc");
    assert.ok(live);
    assert.equal(live.service.bytesIn, 10_000);
    assert.equal(live.service.bytesOut, 2 + 10_000);
    assert.equal(live.servers[`127.0.0.1:${a.port}`].bytesIn, 10_000);
    assert.equal(lb.services.get("svc")?.counters.bytesIn, 0, "closed-connection totals only");
    c.end();
    await until(() => lb.services.get("svc")?.counters.active === 0);
    assert.equal(lb.liveCounters("svc")?.service.bytesIn, 10_000);
    assert.equal(lb.services.get("svc")?.counters.bytesIn, 10_000);
  });

  test("bulk bytes arrive intact through backpressure (slow client, queued writes)", async () => {
    const total = 8 * 1024 * 1024;
    const pattern = (i: number) => (i * 7 + (i >>> 11)) & 0xff;
    const source = net.createServer((s) => {
      s.on("error", () => {});
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(64 * 1024, total - sent);
          const chunk = Buffer.allocUnsafe(n);
          for (let i = 0; i < n; i++) chunk[i] = pattern(sent + i);
          sent += n;
          if (!s.write(chunk)) return;
        }
        s.end();
      };
      s.on("drain", pump);
      pump();
    });
    const sport = await freePort();
    await new Promise<void>((r) => source.listen(sport, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => source.close(() => r())));
    const port = await freePort();
    await balancer({ svc: tcpService(port, [sport]) });

    const c = net.connect(port, "127.0.0.1");
    let got = 0;
    let bad = -1;
    let pauses = 0;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`stalled at ${got} bytes`)), 20_000);
      c.on("data", (d: Buffer) => {
        for (let i = 0; i < d.length && bad < 0; i++) if (d[i] !== pattern(got + i)) bad = got + i;
        const before = got;
        got += d.length;
        // Stop reading for a moment every MiB, so the balancer's writes to us queue up.
        if (Math.floor(got / 1048576) !== Math.floor(before / 1048576) && pauses < 8) {
          pauses++;
          c.pause();
          setTimeout(() => c.resume(), 30);
        }
      });
      c.on("end", () => {
        clearTimeout(t);
        resolve();
      });
      c.on("error", reject);
    });
    c.destroy();
    assert.equal(bad, -1, `first wrong byte at ${bad}`);
    assert.equal(got, total);
  });

  test("workers: weights hold across processes, counters aggregate, down servers get nothing", async () => {
    const [a, b] = await backends("a", "b");
    const port = await freePort();
    const cfg = tcpService(port, [a.port, b.port], {
      check: tcpCheck(1, 300),
    });
    (cfg.servers[0] as { weight: number }).weight = 3;
    const lb = await balancer({ svc: cfg }, { workers: 2, statsIntervalMs: 50 });
    assert.equal(lb.workerCount, 1);
    await lb.workersServing("svc");

    const names: string[] = [];
    for (let i = 0; i < 200; i++) names.push(await greet(port));
    const t = tally(names);
    // Each process runs its own smooth wrr, so the mix is 3:1 up to one rotation per process.
    assert.ok(Math.abs((t.a ?? 0) - 150) <= 8, `a got ${t.a} of 200`);
    // Counters from both processes add up (workers report every 50 ms here).
    await until(() => lb.liveCounters("svc")?.service.connectionsTotal === 200);
    await until(() => lb.liveCounters("svc")?.service.active === 0);
    const live = lb.liveCounters("svc");
    assert.equal(live?.servers[`127.0.0.1:${a.port}`].connectionsTotal, t.a);
    assert.equal(live?.servers[`127.0.0.1:${b.port}`].connectionsTotal, t.b);
    assert.equal(live?.service.bytesOut, 200 * 2, "each greeting is 2 bytes");
    // The kernel spread the accepts: the worker took part (78-101 of 200 in the primary here).
    const own = lb.services.get("svc")?.counters.connectionsTotal ?? 0;
    assert.ok(own < 200, `the worker accepted none of 200 (primary ${own})`);

    // b goes away: once the primary marks it down, no process sends it anything.
    await b.stop();
    await until(() => lb.prober.status(`svc/127.0.0.1:${b.port}`)?.state === "down");
    await wait(50); // the snapshot message reaches the worker
    const after = tally(await Promise.all(Array.from({ length: 40 }, () => greet(port))));
    assert.deepEqual(after, { a: 40 });
  });

  test("workers: a killed worker is forked again; totals never go back", async () => {
    const [a] = await backends("a");
    const port = await freePort();
    const lb = await balancer(
      { svc: tcpService(port, [a.port]) },
      { workers: 2, statsIntervalMs: 50 },
    );
    await lb.workersServing("svc");
    for (let i = 0; i < 40; i++) assert.equal(await greet(port), "a");
    await until(() => lb.liveCounters("svc")?.service.connectionsTotal === 40);
    const [pid] = lb.workerPids();
    process.kill(pid, "SIGKILL");
    await until(() => !lb.workerPids().includes(pid));
    // Meanwhile the primary serves alone, and the dead worker's reported totals are kept.
    for (let i = 0; i < 10; i++) assert.equal(await greet(port), "a");
    assert.ok((lb.liveCounters("svc")?.service.connectionsTotal ?? 0) >= 40);
    await until(() => lb.workerPids().length === 1); // forked again after ~1 s
    await lb.workersServing("svc");
    for (let i = 0; i < 10; i++) assert.equal(await greet(port), "a");
    await until(() => lb.liveCounters("svc")?.service.connectionsTotal === 60);
  });

  test("workers: a reload reaches every process; gaining persistence moves it to the primary", async () => {
    const [a, b] = await backends("a", "b");
    const port = await freePort();
    const lb = await balancer(
      { svc: tcpService(port, [a.port]) },
      { workers: 2, statsIntervalMs: 50 },
    );
    await lb.workersServing("svc");
    const held = await Client.open(port);
    assert.equal(await held.line(), "a");

    const sum = await lb.reload({ svc: tcpService(port, [b.port]) });
    assert.deepEqual(sum.changed, ["svc"]);
    await wait(50); // the reconfigure message reaches the worker
    const t = tally(await Promise.all(Array.from({ length: 40 }, () => greet(port))));
    assert.deepEqual(t, { b: 40 });

    // Affinity must be kept in one place: the workers stop accepting, the primary serves all.
    await lb.reload({ svc: tcpService(port, [a.port, b.port], { persistence_timeout: 60 }) });
    await wait(50);
    const before = lb.services.get("svc")?.counters.connectionsTotal ?? 0;
    const sticky = tally(await Promise.all(Array.from({ length: 20 }, () => greet(port))));
    assert.equal(Object.keys(sticky).length, 1, JSON.stringify(sticky));
    assert.equal((lb.services.get("svc")?.counters.connectionsTotal ?? 0) - before, 20);

    held.sock.write("kept\n");
    assert.equal(await held.line(), "kept");
    held.end();
  });
});
