import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCheck } from "../../src/health/checks/index.js";
import type { HealthCheckConfig } from "../../src/health/types.js";
import { freePort } from "../../tools/ports.js";
import { start, startMemcached, startRedis, stopAll } from "../../tools/procs.js";

const base = { interval: 1000, timeout: 2000, rise: 1, fall: 1 };
const check = (
  port: number,
  cfg: Partial<HealthCheckConfig> & { type: HealthCheckConfig["type"] },
) =>
  runCheck(
    { host: "127.0.0.1", port },
    { ...base, ...cfg },
    AbortSignal.timeout(cfg.timeout ?? 3000),
  );

const dir = mkdtempSync(join(tmpdir(), "kc-health-"));
after(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("checks against real servers", () => {
  test("tcp, memcache and redis (PING, ROLE)", async () => {
    const [mp, rp, closed] = [await freePort(), await freePort(), await freePort()];
    await Promise.all([startMemcached(mp), startRedis(rp)]);
    assert.equal((await check(mp, { type: "tcp" })).ok, true);
    assert.equal((await check(closed, { type: "tcp" })).detail, "ECONNREFUSED");
    const m = await check(mp, { type: "memcache" });
    assert.ok(m.ok && m.detail.startsWith("VERSION 1."), m.detail);
    assert.equal((await check(rp, { type: "redis" })).detail, "PONG");
    const r = await check(rp, { type: "redis", command: "role" });
    assert.equal(r.detail, "role=master");
    assert.equal((await check(rp, { type: "redis", role: "replica" })).ok, false);
    assert.equal((await check(mp, { type: "redis" })).ok, false);
  });

  test("http: status codes, Host header, md5 digest, timeout", async () => {
    const body = "hello health";
    let seenHost = "";
    const s = http.createServer((req, res) => {
      seenHost = req.headers.host ?? "";
      if (req.url === "/slow") return; // never answers
      res.statusCode = req.url === "/bad" ? 503 : 200;
      res.end(body);
    });
    const port = await freePort();
    await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
    try {
      const md5 = createHash("md5").update(body).digest("hex");
      const ok = await check(port, { type: "http", path: "/ok", host: "www.example", digest: md5 });
      assert.ok(ok.ok, ok.detail);
      assert.equal(seenHost, "www.example");
      assert.equal((await check(port, { type: "http", path: "/bad" })).detail, "status 503");
      assert.equal((await check(port, { type: "http", path: "/bad", status: [503] })).ok, true);
      assert.equal((await check(port, { type: "http", digest: "0".repeat(32) })).ok, false);
      const slow = await check(port, { type: "http", path: "/slow", timeout: 200 });
      assert.equal(slow.detail, "timeout");
    } finally {
      s.closeAllConnections();
      s.close();
    }
  });

  test("script: MISC_CHECK exit codes, misc_dynamic weights, timeout kill, security", async () => {
    const script = join(dir, "chk.sh");
    writeFileSync(script, '#!/bin/sh\n[ "$1" = sleep ] && exec sleep 30\nexit "$1"\n');
    chmodSync(script, 0o755);
    chmodSync(dir, 0o755);
    const run = (arg: string, dynamic = false, timeout = 2000) =>
      check(0, { type: "script", timeout, script: { command: `${script} ${arg}`, dynamic } });
    assert.equal((await run("0")).ok, true);
    assert.equal((await run("1")).ok, false);
    assert.equal((await run("7")).ok, false);
    const d = await run("7", true);
    assert.ok(d.ok);
    assert.equal(d.weight, 5);
    assert.equal((await run("1", true)).ok, false);
    const t0 = Date.now();
    const slow = await run("sleep", false, 200);
    assert.equal(slow.ok, false);
    assert.ok(Date.now() - t0 < 2000);
    if (process.getuid?.() === 0) {
      chmodSync(script, 0o777);
      const bad = await run("0");
      assert.equal(bad.ok, false);
      assert.match(bad.detail, /insecure/);
      chmodSync(script, 0o755);
      const asNobody = await check(0, {
        type: "script",
        script: { command: "/usr/bin/id -u", user: "nobody" },
      });
      assert.equal(asNobody.ok, true);
    }
  });
});

describe("mysql check against real MariaDB", () => {
  let port = 0;
  before(async () => {
    const data = join(dir, "mysql");
    const init = join(dir, "init.sql");
    writeFileSync(
      init,
      "CREATE USER IF NOT EXISTS 'hc'@'127.0.0.1' IDENTIFIED BY 'pw';\n" +
        "CREATE USER IF NOT EXISTS 'nopw'@'127.0.0.1';\n",
    );
    const inst = await start("mariadb-install-db", [
      `--datadir=${data}`,
      "--user=root",
      "--skip-test-db",
      "--auth-root-authentication-method=normal",
    ]);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`install-db timed out:\n${inst.output()}`)),
        60_000,
      );
      inst.child.once("exit", (code) => {
        clearTimeout(t);
        code === 0 ? resolve() : reject(new Error(`install-db failed:\n${inst.output()}`));
      });
    });
    port = await freePort();
    await start(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${data}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(dir, "mysql.sock")}`,
        `--pid-file=${join(dir, "mysql.pid")}`,
        `--init-file=${init}`,
        "--user=root",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=16M",
        "--skip-name-resolve",
      ],
      { port, timeoutMs: 30_000 },
    );
  });

  test("greeting, login OK, wrong password and closed port fail", async () => {
    const g = await check(port, { type: "mysql" });
    assert.ok(g.ok && g.detail.includes("MariaDB"), g.detail);
    const ok = await check(port, { type: "mysql", user: "hc", password: "pw" });
    assert.ok(ok.ok, ok.detail);
    const nopw = await check(port, { type: "mysql", user: "nopw" });
    assert.ok(nopw.ok, nopw.detail);
    const bad = await check(port, { type: "mysql", user: "hc", password: "wrong" });
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /^ERR 1045/);
    assert.equal((await check(await freePort(), { type: "mysql" })).ok, false);
  });
});
