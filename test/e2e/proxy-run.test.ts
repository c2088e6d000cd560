/**
 * `keepcache run` as a process: the seed-004 nutcracker.yml with only its addresses pointed at
 * local ports, SIGHUP reload (valid: pools swapped under an open client connection; invalid:
 * the errors are logged and the old config keeps serving), the stats port, clean SIGTERM.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import { freePorts } from "../../tools/ports.js";
import { repoRoot, startMemcached, startRedis } from "../../tools/procs.js";
import { reloadWith, startRun, suiteDir, until } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange } from "./proxy-harness.js";

const dir = suiteDir("kc-run-");

function runProxy(file: string, listen: number, stats: number) {
  return startRun(file, undefined, { listen, stats });
}

describe("keepcache run", () => {
  test("seed 004's nutcracker.yml runs unchanged but for its addresses (redis pool)", async () => {
    const [listen, stats, r1, r2] = await freePorts(4);
    await Promise.all([startRedis(r1), startRedis(r2)]);
    const fixture = readFileSync(
      join(repoRoot(), "test/fixtures/config/seed004-nutcracker.yml"),
      "latin1",
    );
    const yml = fixture
      .replace("0.0.0.0:63790", `127.0.0.1:${listen}`)
      .replace("10.75.201.26:6379:1", `127.0.0.1:${r1}:1`)
      .replace("10.75.201.68:6379:1", `127.0.0.1:${r2}:1`);
    assert.notEqual(yml, fixture);
    const file = join(dir, "seed004.yml");
    writeFileSync(file, yml);
    const proc = await runProxy(file, listen, stats);
    const client = new Redis({
      port: listen,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await client.connect();
      for (let i = 0; i < 20; i++) assert.equal(await client.set(`{user${i}}:a`, `v${i}`), "OK");
      for (let i = 0; i < 20; i++) assert.equal(await client.get(`{user${i}}:a`), `v${i}`);
      const doc = JSON.parse(await exchange(stats, "", (s) => s.endsWith("}\n")));
      assert.ok("nutcrakerB" in doc, JSON.stringify(doc));
      assert.ok(`127.0.0.1:${r1}` in doc.nutcrakerB);
    } finally {
      client.disconnect();
    }
    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0, proc.output());
  });

  test("SIGHUP: a valid config is swapped in under an open connection; an invalid one is refused", async () => {
    const [listen, stats, m1, m2] = await freePorts(4);
    await Promise.all([startMemcached(m1), startMemcached(m2)]);
    const file = join(dir, "reload.yml");
    const conf = (server: number, extra = "") =>
      `gamma:\n  listen: 127.0.0.1:${listen}\n${extra}  servers:\n    - 127.0.0.1:${server}:1\n`;
    writeFileSync(file, conf(m1));
    const proc = await runProxy(file, listen, stats);
    const c = await RawClient.connect(listen);
    assert.equal(await c.call("set rk 0 0 2\r\nm1\r\n"), "STORED\r\n");

    reloadWith(proc, file, conf(m2));
    // Same connection, now served by the second memcached.
    await until(async () => (await c.call("get rk\r\n", "END\r\n")) === "END\r\n", "reload");
    assert.equal(await c.call("set rk 0 0 2\r\nm2\r\n"), "STORED\r\n");
    const direct = await exchange(m2, "get rk\r\n", (s) => s.endsWith("END\r\n"));
    assert.equal(direct, "VALUE rk 0 2\r\nm2\r\nEND\r\n");

    reloadWith(proc, file, conf(m1, "  hash: no_such_hash\n"));
    await until(async () => proc.output().includes("reload rejected"), "rejection");
    assert.match(proc.output(), /reload\.yml:3/);
    assert.equal(await c.call("get rk\r\n", "END\r\n"), "VALUE rk 0 2\r\nm2\r\nEND\r\n");
    assert.equal(c.closed, false);
    c.close();
    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0, proc.output());
  });
});
