/**
 * The Sentinel-compatible endpoint against real servers: a Redis replica set (real
 * redis-server master + 2 replicas) behind keepcache's builtin failover, the endpoint in front
 * of it, and
 * - a real redis-sentinel monitoring the same master, whose replies the endpoint's must match
 *   in shape and field names (SENTINEL masters / master / replicas / get-master-addr-by-name,
 *   ROLE, errors);
 * - raw redis-cli asking get-master-addr-by-name;
 * - ioredis in Sentinel mode, writing (each write acknowledged only once WAIT says a replica
 *   has it), through a kill -9 of the master: it must follow the builtin failover within a
 *   bounded time, lose no acknowledged write, and a subscriber must get +switch-master.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { RedisLab, sleep } from "../../bench/failover/lab.js";
import { logger } from "../../src/log.js";
import { SentinelServer } from "../../src/sentinel/server.js";
import { freePort, freePorts } from "../../tools/ports.js";
import { type Proc, start, startRedis, stopAll } from "../../tools/procs.js";
import { startRun, suiteDir, until } from "../helpers/keepcache-run.js";

const run = promisify(execFile);

function fieldNames(reply: unknown): string[] {
  assert.ok(Array.isArray(reply));
  return (reply as string[]).filter((_, i) => i % 2 === 0);
}

describe("sentinel endpoint", { timeout: 90_000 }, () => {
  let lab: RedisLab | undefined;
  let endpoint: SentinelServer | undefined;
  let real: Proc | undefined;
  const clients: Redis[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    await endpoint?.close();
    await lab?.stop();
    await stopAll();
  });

  test("answers like redis-sentinel, and ioredis follows a builtin failover", async () => {
    lab = await RedisLab.start({ replicas: 2, mode: "builtin" });
    endpoint = new SentinelServer(
      lab.proxy,
      {
        listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
        max_clients: 100,
        output_limit: 1 << 20,
      },
      logger({ level: "silent" }),
    );
    const port = (await endpoint.listen()).port;
    const name = "shard1"; // the lab's set has no master_name: the set name is the master name

    // A real redis-sentinel monitoring the same master (it never fails over in this window).
    const rport = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "kc-sent-"));
    const conf = join(dir, "s.conf");
    writeFileSync(
      conf,
      `port ${rport}\nbind 127.0.0.1\nsentinel monitor ${name} 127.0.0.1 ${lab.ports[0]} 1\nsentinel down-after-milliseconds ${name} 60000\n`,
    );
    real = await start("redis-sentinel", [conf], { port: rport });
    const ours = new Redis({ port, lazyConnect: true });
    const theirs = new Redis({ port: rport, lazyConnect: true });
    clients.push(ours, theirs);
    theirs.on("error", () => {});
    // Wait until the real one has discovered both replicas (INFO refresh every 10 s at first).
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const r = (await theirs.call("SENTINEL", "replicas", name)) as unknown[];
      if (r.length === 2) break;
      await sleep(200);
    }
    for (const cmd of [
      ["SENTINEL", "get-master-addr-by-name", name],
      ["SENTINEL", "get-master-addr-by-name", "nope"],
      ["SENTINEL", "sentinels", name],
      ["ROLE"],
    ])
      assert.deepEqual(
        await ours.call(cmd[0], ...cmd.slice(1)),
        await theirs.call(cmd[0], ...cmd.slice(1)),
        cmd.join(" "),
      );
    const [om] = (await ours.call("SENTINEL", "masters")) as unknown[][];
    const [tm] = (await theirs.call("SENTINEL", "masters")) as unknown[][];
    assert.deepEqual(fieldNames(om), fieldNames(tm), "SENTINEL masters field names");
    assert.deepEqual(om.slice(0, 6), tm.slice(0, 6), "name, ip, port");
    assert.deepEqual(
      fieldNames(await ours.call("SENTINEL", "master", name)),
      fieldNames(await theirs.call("SENTINEL", "master", name)),
    );
    const orep = (await ours.call("SENTINEL", "replicas", name)) as unknown[][];
    const trep = (await theirs.call("SENTINEL", "slaves", name)) as unknown[][];
    assert.equal(orep.length, trep.length);
    assert.deepEqual(fieldNames(orep[0]), fieldNames(trep[0]), "SENTINEL replicas field names");
    const ports = (rs: unknown[][]) => rs.map((r) => r[5]).sort();
    assert.deepEqual(ports(orep), ports(trep));
    for (const cmd of [
      ["SENTINEL", "master", "nope"],
      ["SENTINEL", "replicas", "nope"],
      ["SENTINEL", "bogus"],
      ["GET", "x"],
    ]) {
      const e1 = await ours.call(cmd[0], ...cmd.slice(1)).catch((e: Error) => e.message);
      const e2 = await theirs.call(cmd[0], ...cmd.slice(1)).catch((e: Error) => e.message);
      assert.equal(e1, e2, cmd.join(" "));
    }
    assert.match(
      String(await ours.call("INFO", "sentinel")),
      new RegExp(`master0:name=${name},status=ok,address=127.0.0.1:${lab.ports[0]},slaves=2`),
    );
    await real.stop("SIGKILL");

    // Raw redis-cli.
    const cli = await run("redis-cli", [
      "-p",
      String(port),
      "SENTINEL",
      "get-master-addr-by-name",
      name,
    ]);
    assert.equal(cli.stdout, `127.0.0.1\n${lab.ports[0]}\n`);

    // A subscriber for +switch-master, as Sentinel clients subscribe.
    const sub = new Redis({ port });
    clients.push(sub);
    const switches: string[] = [];
    sub.on("message", (ch: string, msg: string) => {
      if (ch === "+switch-master") switches.push(msg);
    });
    const pswitches: string[] = [];
    sub.on("pmessage", (_p: string, ch: string, msg: string) => pswitches.push(`${ch} ${msg}`));
    await sub.subscribe("+switch-master");
    await sub.psubscribe("*");

    // ioredis in Sentinel mode writes; a write is acknowledged once a replica has it (WAIT).
    const app = new Redis({
      sentinels: [{ host: "127.0.0.1", port }],
      name,
      maxRetriesPerRequest: 50,
    });
    clients.push(app);
    app.on("error", () => {});
    const acked: string[] = [];
    const errors: string[] = [];
    let stop = false;
    let killedAt = 0;
    let firstAfterKill = 0;
    const loop = (async () => {
      for (let i = 0; !stop && i < 1_000_000; i++) {
        const k = `s:${i}`;
        const began = Date.now();
        try {
          await app.set(k, String(i));
          const n = Number(await app.call("WAIT", "1", "1000"));
          if (n >= 1) {
            acked.push(k);
            // The first write begun after the kill: one in flight at the kill proves nothing.
            if (killedAt > 0 && began > killedAt && firstAfterKill === 0)
              firstAfterKill = Date.now();
          }
        } catch (e) {
          errors.push((e as Error).message);
          await sleep(20);
        }
      }
    })();
    await sleep(500);
    assert.ok(acked.length > 0, `writes flow before the kill (${errors.slice(0, 2)})`);
    killedAt = lab.kill(0);
    const deadline = Date.now() + 15_000;
    while (firstAfterKill === 0 && Date.now() < deadline) await sleep(20);
    await sleep(300);
    stop = true;
    await loop;
    assert.ok(firstAfterKill > 0, `ioredis wrote after the kill (errors: ${errors.slice(-3)})`);
    const took = firstAfterKill - killedAt;
    assert.ok(took < 5000, `kill → first acknowledged write through ioredis: ${took} ms`);
    const m = await lab.masterIndex();
    assert.ok(m === 1 || m === 2, `a replica was promoted (${m})`);
    // Nothing acknowledged is missing on the new master.
    const direct = new Redis({ port: lab.ports[m] });
    clients.push(direct);
    const got = await direct.mget(...acked);
    const lost = acked.filter((k, i) => got[i] !== k.slice(2));
    assert.equal(lost.length, 0, `lost ${lost.length} of ${acked.length} acknowledged writes`);
    assert.deepEqual(await ours.call("SENTINEL", "get-master-addr-by-name", name), [
      "127.0.0.1",
      String(lab.ports[m]),
    ]);
    assert.deepEqual(switches, [`${name} 127.0.0.1 ${lab.ports[0]} 127.0.0.1 ${lab.ports[m]}`]);
    assert.ok(pswitches.includes(`+switch-master ${switches[0]}`), pswitches.join("; "));
    process.stdout.write(
      `# ioredis via sentinel endpoint: kill -> first acked write ${took} ms, ${acked.length} acked writes, 0 lost\n`,
    );
  });

  test("keepcache run: the endpoint from the config, in the primary of a workers: 2 run", async () => {
    const dir = suiteDir("kc-sentinel-run-");
    const [m, r, listen, stats, sport, aport] = await freePorts(6);
    await startRedis(m);
    await startRedis(r, ["--replicaof", "127.0.0.1", String(m)]);
    const file = join(dir, "k.yml");
    const yaml = [
      "workers: 2",
      "admin:",
      `  listen: 127.0.0.1:${aport}`,
      "sentinel:",
      `  listen: 127.0.0.1:${sport}`,
      "cache:",
      `  listen: 127.0.0.1:${listen}`,
      "  redis: true",
      "  servers:",
      "    - name: shard1",
      "      failover: builtin",
      "      master_name: mymaster",
      "      members:",
      `        - { address: "127.0.0.1:${m}", role: master }`,
      `        - { address: "127.0.0.1:${r}", role: replica }`,
      "",
    ].join("\n");
    await startRun(file, yaml, { listen, stats });
    let out = "";
    await until(async () => {
      out = (
        await run("redis-cli", [
          "-p",
          String(sport),
          "SENTINEL",
          "get-master-addr-by-name",
          "mymaster",
        ]).catch(() => ({ stdout: "" }))
      ).stdout;
      return out !== "";
    }, "the sentinel endpoint");
    assert.equal(out, `127.0.0.1\n${m}\n`);
    const replicas = await run("redis-cli", [
      "-p",
      String(sport),
      "SENTINEL",
      "replicas",
      "mymaster",
    ]);
    assert.match(replicas.stdout, new RegExp(`^name\n127\\.0\\.0\\.1:${r}\n`));
    const metrics = await (await fetch(`http://127.0.0.1:${aport}/metrics`)).text();
    const accepted = /^keepcache_sentinel_connections_total (\d+)$/m.exec(metrics);
    assert.ok(
      accepted !== null && Number(accepted[1]) >= 2,
      "keepcache_sentinel_connections_total",
    );
  });
});
