/**
 * The Redis command policy end to end: `keepcache run` in front of real redis-servers with a
 * hidden backend password (`redis_auth`) and `redis_db: 2`. With the default policy a client
 * cannot read the password, flush or reach another database (FLUSHALL, scripts), or make the
 * server connect to another host (MIGRATE); `allow_commands` / `deny_commands` open and close
 * commands; `redis_user` lets scripts run because the backend's own ACL confines them, and a
 * user whose ACL does not is refused at connect. The same policy holds in worker processes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { freePorts, waitForPort } from "../../tools/ports.js";
import { keepcacheBin, start, startRedis, stopAll } from "../../tools/procs.js";
import { ioredis, ioredisClients } from "../helpers/ioredis.js";

const PW = "backpw";
let dir = "";
let backends: number[] = [];
let p = { single: 0, sharded: 0, opened: 0, acl: 0, loose: 0, workers: 0 };
const client = ioredis;

/** A client of backend `i` itself, on database `db`. */
const direct = (i: number, db: number): Redis => client(backends[i], { password: PW, db });

function writeConfig(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

before(async () => {
  const ports = await freePorts(8);
  backends = ports.slice(0, 2);
  p = {
    single: ports[2],
    sharded: ports[3],
    opened: ports[4],
    acl: ports[5],
    loose: ports[6],
    workers: ports[7],
  };
  await Promise.all(backends.map((port) => startRedis(port, ["--requirepass", PW])));
  const admin = direct(0, 0);
  // A tenant user confined by the backend: no admin commands, nothing across databases or
  // hosts, SELECT of database 2 only (redis 7.0 ACL first-argument rule).
  await admin.call(
    "ACL",
    "SETUSER",
    "tenant2",
    "on",
    ">t2pw",
    "~*",
    "&*",
    "+@all",
    "-@admin",
    "-flushall",
    "-migrate",
    "-swapdb",
    "-move",
    "-copy",
    "-select",
    "+select|2",
  );
  await admin.call("ACL", "SETUSER", "loose", "on", ">lpw", "~*", "+@all");
  dir = mkdtempSync(join(tmpdir(), "kc-redis-policy-"));
  const one = `    - 127.0.0.1:${backends[0]}:1`;
  const both = backends.map((port, i) => `    - 127.0.0.1:${port}:1 r${i}`).join("\n");
  const tenant = (listen: number, extra = "", servers = one) =>
    `  listen: 127.0.0.1:${listen}\n  redis: true\n  redis_auth: ${PW}\n  redis_db: 2\n  hash_tag: "{}"\n${extra}  servers:\n${servers}\n`;
  const file = writeConfig(
    "policy.yml",
    `single:\n${tenant(p.single)}` +
      `sharded:\n${tenant(p.sharded, "", both)}` +
      `opened:\n${tenant(p.opened, "  allow_commands: [CONFIG, migrate]\n  deny_commands: [keys]\n")}` +
      `acl:\n${tenant(p.acl, "  redis_user: tenant2\n  redis_user_password: t2pw\n")}` +
      `loose:\n${tenant(p.loose, "  redis_user: loose\n  redis_user_password: lpw\n")}`,
  );
  await start(process.execPath, [keepcacheBin(), "run", "-c", file, "-s", "0"], { port: p.single });
  for (const port of [p.sharded, p.opened, p.acl, p.loose]) await waitForPort(port);
  const wfile = writeConfig("workers.yml", `workers: 2\nw:\n${tenant(p.workers)}`);
  await start(process.execPath, [keepcacheBin(), "run", "-c", wfile, "-s", "0"], {
    port: p.workers,
  });
});

after(async () => {
  for (const c of ioredisClients) c.disconnect();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("default command policy (redis_auth, redis_db: 2)", () => {
  test("CONFIG GET requirepass and other secrets are refused; plain parameters are read", async () => {
    for (const port of [p.single, p.sharded]) {
      const r = client(port);
      await assert.rejects(
        r.call("CONFIG", "GET", "requirepass"),
        /^ReplyError: ERR CONFIG GET is not allowed by keepcache proxy: a pattern or a secret parameter \(requirepass, masterauth/,
      );
      await assert.rejects(r.call("config", "get", "*"), /CONFIG GET is not allowed/);
      await assert.rejects(
        r.call("CONFIG", "GET", "save", "MasterAuth"),
        /CONFIG GET is not allowed/,
      );
      await assert.rejects(
        r.call("CONFIG", "SET", "requirepass", "x"),
        /CONFIG SET is not allowed by keepcache proxy/,
      );
      await assert.rejects(r.call("ACL", "LIST"), /ACL LIST is not allowed by keepcache proxy/);
      // What redis-benchmark reads at start still works.
      assert.deepEqual(await r.call("CONFIG", "GET", "appendonly"), ["appendonly", "no"]);
    }
  });

  test("FLUSHALL empties the pool's database only: keys in db 0 survive", async () => {
    const d0 = direct(0, 0);
    const d1 = direct(1, 0);
    await d0.set("survivor", "db0");
    await d1.set("survivor", "db0");
    for (const port of [p.single, p.sharded]) {
      const r = client(port);
      await r.set("{t}gone", "x");
      assert.equal(await r.call("FLUSHALL"), "OK");
      assert.equal(await r.get("{t}gone"), null);
      await r.set("{t}gone", "x");
      assert.equal(await r.call("FLUSHALL", "ASYNC"), "OK");
      assert.equal(await r.exists("{t}gone"), 0);
    }
    // Inside MULTI (one server: a broadcast cannot be queued) it is queued as FLUSHDB too.
    const r = client(p.single);
    await r.set("{t}gone", "x");
    assert.deepEqual(await r.multi().set("{t}a", "1").call("FLUSHALL").exec(), [
      [null, "OK"],
      [null, "OK"],
    ]);
    assert.equal(await r.exists("{t}gone"), 0);
    assert.equal(await d0.get("survivor"), "db0");
    assert.equal(await d1.get("survivor"), "db0");
  });

  test("MIGRATE is refused and the target listener receives nothing", async () => {
    let connections = 0;
    const trap = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((res) => trap.listen(0, "127.0.0.1", res));
    const port = (trap.address() as net.AddressInfo).port;
    try {
      for (const proxyPort of [p.single, p.sharded]) {
        const r = client(proxyPort);
        await r.set("{t}m", "payload");
        await assert.rejects(
          r.call("MIGRATE", "127.0.0.1", String(port), "{t}m", "0", "1000"),
          /ERR MIGRATE is not allowed by keepcache proxy: it makes the server connect to another host/,
        );
        // The same through a script is refused too: scripts are closed by default.
        await assert.rejects(
          r.eval(
            "return redis.call('MIGRATE', ARGV[1], ARGV[2], KEYS[1], 0, 1000)",
            1,
            "{t}m",
            "127.0.0.1",
            String(port),
          ),
          /EVAL is not allowed by keepcache proxy: a script can run any command/,
        );
        assert.equal(await r.get("{t}m"), "payload");
      }
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(connections, 0);
    } finally {
      trap.close();
    }
  });

  test("a script cannot reach another database", async () => {
    const d0 = direct(0, 0);
    await d0.set("secret0", "db0 data");
    const r = client(p.single);
    for (const script of [
      "redis.call('SELECT', 0); return redis.call('GET', 'secret0')",
      "redis.call(ARGV[1], ARGV[2]); return redis.call('GET', 'secret0')",
    ]) {
      await assert.rejects(
        r.eval(script, 0, "select", "0"),
        /EVAL is not allowed by keepcache proxy/,
      );
    }
    await assert.rejects(r.call("FCALL", "f", "0"), /FCALL is not allowed by keepcache proxy/);
    await assert.rejects(
      r.call("FUNCTION", "LOAD", "#!lua name=x\n"),
      /FUNCTION LOAD is not allowed by keepcache proxy: function libraries are the server's/,
    );
    await assert.rejects(r.call("SCRIPT", "LOAD", "return 1"), /SCRIPT LOAD is not allowed/);
    await assert.rejects(r.call("SWAPDB", "0", "2"), /SWAPDB is not allowed by keepcache proxy/);
    await assert.rejects(r.call("MOVE", "k", "0"), /MOVE is not allowed by keepcache proxy/);
    await r.set("c1", "v");
    await assert.rejects(
      r.call("COPY", "c1", "c2", "db", "0"),
      /COPY is not allowed by keepcache proxy/,
    );
    assert.equal(await r.call("COPY", "c1", "c2"), 1);
    assert.equal(await d0.exists("c2"), 0);
    assert.equal(await r.get("c2"), "v");
    await assert.rejects(r.call("SHUTDOWN"), /SHUTDOWN is not allowed/);
    await assert.rejects(r.call("DEBUG", "SLEEP", "0"), /DEBUG is not allowed/);
    await assert.rejects(r.call("CLIENT", "KILL", "ID", "1"), /CLIENT KILL is not allowed/);
    await assert.rejects(r.call("REPLICAOF", "127.0.0.1", "1"), /REPLICAOF is not allowed/);
    await assert.rejects(r.call("MODULE", "LIST"), /MODULE LIST is not allowed/);
  });

  test("a refused command inside MULTI aborts the transaction", async () => {
    const r = client(p.single);
    await r.set("tx", "before");
    const res = await r
      .multi()
      .set("tx", "after")
      .call("CONFIG", "GET", "requirepass")
      .exec()
      .catch((e: Error) => e);
    assert.ok(res instanceof Error);
    assert.match(res.message, /EXECABORT/);
    assert.equal(await r.get("tx"), "before");
  });
});

describe("allow_commands / deny_commands", () => {
  test("allow_commands re-opens CONFIG and MIGRATE; deny_commands closes KEYS", async () => {
    const r = client(p.opened);
    assert.deepEqual(await r.call("CONFIG", "GET", "requirepass"), ["requirepass", PW]);
    await r.set("mk", "v");
    // Opened, MIGRATE reaches the backend (which answers NOKEY / IOERR on its own terms).
    assert.equal(
      await r.call("MIGRATE", "127.0.0.1", String(backends[1]), "nokey", "0", "500", "AUTH", PW),
      "NOKEY",
    );
    await assert.rejects(
      r.keys("*"),
      /ERR KEYS is not allowed by keepcache proxy: this pool's deny_commands closes it/,
    );
  });
});

describe("redis_user: the backend's ACL confines scripts", () => {
  test("scripts run, and the backend refuses SELECT and FLUSHALL inside them", async () => {
    const d0 = direct(0, 0);
    await d0.set("secret0", "db0 data");
    const r = client(p.acl);
    await r.set("mine", "db2 data");
    assert.equal(await r.eval("return redis.call('GET', KEYS[1])", 1, "mine"), "db2 data");
    await assert.rejects(
      r.eval("redis.call('SELECT', 0); return redis.call('GET', 'secret0')", 0),
      /The user executing the script can't run this command/,
    );
    await assert.rejects(
      r.eval("return redis.call(ARGV[1], ARGV[2])", 0, "select", "0"),
      /The user executing the script can't run this command/,
    );
    await assert.rejects(r.eval("return redis.call('FLUSHALL')", 0), /can't run this command/);
    assert.equal(await d0.get("secret0"), "db0 data");
    const d2 = direct(0, 2);
    assert.equal(await d2.get("mine"), "db2 data");
  });

  test("a redis_user whose ACL allows SELECT of other databases fails every connection", async () => {
    const r = client(p.loose);
    await assert.rejects(
      r.get("x"),
      /rejected the connection handshake: redis_user loose may SELECT 0; its ACL rules must deny SELECT of any database but 2/,
    );
  });
});

describe("worker processes", () => {
  test("every worker enforces the pool's policy", async () => {
    const d0 = direct(0, 0);
    await d0.set("survivor", "db0");
    // Connections are spread over the processes by the kernel; 12 reach both in practice,
    // and each one must be refused the same way.
    const conns = Array.from({ length: 12 }, () => client(p.workers));
    const replies = await Promise.all(
      conns.map((c) => c.call("CONFIG", "GET", "requirepass").catch((e: Error) => e.message)),
    );
    for (const m of replies)
      assert.match(String(m), /CONFIG GET is not allowed by keepcache proxy/);
    await Promise.all(conns.map((c) => c.call("FLUSHALL")));
    assert.equal(await d0.get("survivor"), "db0");
  });
});
