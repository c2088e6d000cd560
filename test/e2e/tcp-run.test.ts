/**
 * TCP balancing through the product surfaces: the admin metrics and status (counters move,
 * bytes of open connections included, health shown); the seed keepalived.conf virtual_server
 * blocks imported and balancing local backends (weights, persistence); and
 * `keepcache run -c keepalived.conf`: it balances, a SIGHUP with new real servers keeps the
 * open client connection, and SIGTERM stops it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AdminServer } from "../../src/admin/http.js";
import { attachTcp } from "../../src/admin/sources/tcp.js";
import { loadConfigOrKeepalived } from "../../src/cli/vrrp.js";
import type { TcpServiceConfig } from "../../src/config/index.js";
import { child } from "../../src/log.js";
import { TcpBalancer } from "../../src/tcp/balancer.js";
import { freePort } from "../helpers/ports.js";
import { keepcacheBin, repoRoot, start, stopAll } from "../helpers/procs.js";
import { tally, tcpCheck, tcpService, until, wait } from "../helpers/tcp-backends.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
  await stopAll();
});

/** Greets each connection with its name, then echoes. */
async function backend(name: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const socks = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    s.on("close", () => socks.delete(s));
    s.on("error", () => {});
    s.write(`${name}\n`);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const stop = async () => {
    for (const s of socks) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await stop();
  });
  return {
    port,
    stop: async () => {
      stopped = true;
      await stop();
    },
  };
}

/** Opens a connection; `next()` resolves with each line the peer sends (3 s bound). */
async function open(port: number) {
  const s = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  s.on("error", () => {});
  let buf = "";
  s.on("data", (d) => {
    buf += d.toString();
  });
  const next = async () => {
    const end = Date.now() + 3000;
    for (;;) {
      const i = buf.indexOf("\n");
      if (i >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return l;
      }
      if (s.destroyed || Date.now() > end) throw new Error("no line");
      await wait(5);
    }
  };
  return { sock: s, next };
}

async function greet(port: number): Promise<string> {
  const c = await open(port);
  const l = await c.next();
  c.sock.end();
  return l;
}

/** The value of `name` whose label set holds every `k="v"` of `labels` (comma-separated). */
function sample(text: string, name: string, labels: string): number | undefined {
  const want = labels.split(",");
  const line = text.split("\n").find((l) => {
    if (!l.startsWith(`${name}{`)) return false;
    const have = l.slice(name.length + 1, l.lastIndexOf("}")).split(",");
    return want.every((w) => have.includes(w));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function balancer(cfgs: Record<string, TcpServiceConfig>): Promise<TcpBalancer> {
  const lb = new TcpBalancer(cfgs);
  await lb.start();
  cleanup.push(() => lb.stop());
  return lb;
}

describe("tcp balancing: metrics, status, keepalived import and keepcache run", () => {
  test("admin metrics and status follow connections, bytes and health", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const port = await freePort();
    const cfg: TcpServiceConfig = {
      name: "web",
      ...tcpService(port, [a.port, b.port], {
        balance: "rr",
        backlog: 128,
        check: tcpCheck(1, 300),
      }),
    };
    const lb = new TcpBalancer({ web: cfg });
    await lb.start();
    cleanup.push(() => lb.stop());
    const admin = new AdminServer({ log: child("test-admin"), processMetrics: false });
    const undo = attachTcp(admin, lb, [cfg], () => `127.0.0.1:${port}`);
    cleanup.push(async () => undo());

    for (let i = 0; i < 10; i++) await greet(port);
    const held = await open(port);
    await held.next();
    held.sock.write(`${"z".repeat(999)}\n`);
    assert.equal((await held.next()).length, 999);

    const text = await admin.metrics.metrics();
    const svc = 'service="web"';
    assert.equal(sample(text, "keepcache_tcp_service_connections_total", svc), 11);
    assert.equal(sample(text, "keepcache_tcp_service_active", svc), 1);
    // 10 closed connections sent nothing; the open one sent 1000 bytes so far.
    assert.equal(sample(text, "keepcache_tcp_service_in_bytes_total", svc), 1000);
    assert.equal(sample(text, "keepcache_tcp_service_out_bytes_total", svc), 11 * 2 + 1000);
    const perServer = [a.port, b.port].map(
      (p) =>
        sample(
          text,
          "keepcache_tcp_server_connections_total",
          `server="127.0.0.1:${p}",service="web"`,
        ) ?? -1,
    );
    assert.deepEqual(
      perServer.sort((x, y) => x - y),
      [5, 6],
    );

    await b.stop();
    await until(() => {
      const st = admin.status.snapshot({
        version: "t",
        actions: { server: [], pool: [], vrrp: [], node: [] },
        lastEventSeq: 0,
      });
      const web = st.tcp.find((t) => t.name === "web");
      const bs = web && "servers" in web ? web.servers[1] : undefined;
      return bs?.health === "down";
    });
    const text2 = await admin.metrics.metrics();
    assert.equal(sample(text2, "keepcache_tcp_service_transitions_total", svc), 1);
    held.sock.end();
  });

  test("keepcache run -c keepalived.conf balances; SIGHUP keeps open connections", async () => {
    const a = await backend("a");
    const b = await backend("b");
    const vport = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "kc-tcp-run-"));
    const file = join(dir, "keepalived.conf");
    // seed 000's virtual_server, pointed at local ports (TCP_CHECK on the real server's port).
    const conf = (realPorts: number[]) =>
      [
        `virtual_server 127.0.0.1 ${vport} {`,
        "delay_loop 1",
        "lb_algo rr",
        "protocol TCP",
        ...realPorts.flatMap((p) => [
          `real_server 127.0.0.1 ${p} {`,
          "weight 3",
          "TCP_CHECK {",
          "connect_timeout 3",
          "nb_get_retry 3",
          "delay_before_retry 3",
          "}",
          "}",
        ]),
        "}",
        "",
      ].join("\n");
    writeFileSync(file, conf([a.port]));
    const proc = await start(process.execPath, [keepcacheBin(), "run", "-c", file, "-s", "0"], {
      port: vport,
    });
    assert.equal(await greet(vport), "a");
    const held = await open(vport);
    assert.equal(await held.next(), "a");

    writeFileSync(file, conf([b.port]));
    proc.child.kill("SIGHUP");
    await until(async () => (await greet(vport)) === "b");
    for (let i = 0; i < 3; i++) assert.equal(await greet(vport), "b");
    held.sock.write("kept\n");
    assert.equal(await held.next(), "kept", `held connection lost:\n${proc.output()}`);
    held.sock.end();

    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0, proc.output());
  });

  test("seed keepalived.conf virtual_server blocks import and balance (weights, persistence)", async () => {
    const [r2, r3, r4] = [await backend("r2"), await backend("r3"), await backend("r4")];
    const vport = await freePort();
    const seed = readFileSync(
      join(repoRoot(), "test", "fixtures", "keepalived", "seed001-b-route1.conf"),
      "utf8",
    );
    // The second virtual_server (wrr 8/2/2, TCP_CHECK, persistence_timeout 30) as written,
    // pointed at local ports; checks probe the real server's own port.
    const start = seed.indexOf("virtual_server 192.168.0.8 6379");
    assert.ok(start > 0);
    const block = (persistence: number) =>
      seed
        .slice(start)
        .replace("virtual_server 192.168.0.8 6379", `virtual_server 127.0.0.1 ${vport}`)
        .replace("persistence_timeout 30", `persistence_timeout ${persistence}`)
        .replace("real_server 192.168.0.2 6379", `real_server 127.0.0.1 ${r2.port}`)
        .replace("real_server 192.168.0.3 6379", `real_server 127.0.0.1 ${r3.port}`)
        .replace("real_server 192.168.0.4 6379", `real_server 127.0.0.1 ${r4.port}`)
        .replaceAll(/connect_port 6379\n/g, "");
    const dir = mkdtempSync(join(tmpdir(), "kc-tcp-seed-"));
    const load = (persistence: number) => {
      const file = join(dir, `seed-${persistence}.conf`);
      writeFileSync(file, block(persistence));
      return loadConfigOrKeepalived(file);
    };

    const cfg = load(30);
    assert.equal(cfg.tcp.length, 1);
    const svc = cfg.tcp[0];
    assert.equal(svc.balance, "wrr");
    assert.equal(svc.persistence_timeout, 30);
    assert.deepEqual(
      svc.servers.map((s) => s.weight),
      [8, 2, 2],
    );
    const lb = await balancer({ [svc.name]: svc });
    // Persistence: every connection from 127.0.0.1 sticks to the first server chosen.
    const sticky = tally(await Promise.all(Array.from({ length: 20 }, () => greet(vport))));
    assert.equal(Object.keys(sticky).length, 1, JSON.stringify(sticky));

    // Without persistence the same block spreads 8:2:2 (smooth wrr: exact per 12 picks).
    const sum = await lb.reload({ [svc.name]: load(0).tcp[0] });
    assert.deepEqual(sum.changed, [svc.name]);
    const names: string[] = [];
    for (let i = 0; i < 60; i++) names.push(await greet(vport));
    assert.deepEqual(tally(names), { r2: 40, r3: 10, r4: 10 });

    const seed0 = readFileSync(
      join(repoRoot(), "test", "fixtures", "keepalived", "seed000-master.conf"),
      "utf8",
    );
    const v0 = await freePort();
    const text0 = seed0
      .replace("virtual_server 192.168.100.100 11211", `virtual_server 127.0.0.1 ${v0}`)
      .replace("real_server 192.168.100.10 11211", `real_server 127.0.0.1 ${r2.port}`)
      .replace(/connect_port 11211.*\n/, "");
    const f0 = join(dir, "seed000.conf");
    writeFileSync(f0, text0);
    const cfg0 = loadConfigOrKeepalived(f0);
    assert.equal(cfg0.tcp.length, 1);
    await balancer({ [cfg0.tcp[0].name]: cfg0.tcp[0] });
    assert.equal(await greet(v0), "r2");
  });
});
