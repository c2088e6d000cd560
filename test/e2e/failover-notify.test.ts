/**
 * A builtin failover of a Redis replica set runs the set's `notify` script with the
 * arguments of Sentinel's client-reconfig-script (sentinel.conf):
 *   <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
 * (role "leader": this proxy decided). Its transitions reach the admin event ring as they
 * happen: the failover start with writes held, the switch to the promoted replica, then the
 * returning old master fenced, repointed and unfenced.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { EventRing } from "../../src/admin/events.js";
import { attachReplicaSetEvents } from "../../src/admin/sources/replicaset.js";
import { freePorts } from "../../tools/ports.js";
import { type Proc, startRedis, stopAll } from "../../tools/procs.js";
import { configYaml, poolConfig } from "../helpers/pool-config.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A replica's first sync starts at once (Redis 7 waits repl-diskless-sync-delay, 5 s, for more).
const FAST_SYNC = ["--repl-diskless-sync-delay", "0"];

async function role(port: number): Promise<string> {
  return exchange(port, "ROLE\r\n", (t) => t.length > 0 && /\r\n$/.test(t), 500).catch(() => "");
}

function readOr(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

describe("replica set notify script (redis, builtin)", { timeout: 60_000 }, () => {
  let proxy: RunningProxy | undefined;
  let detach: (() => void) | undefined;
  const dir = mkdtempSync(join(tmpdir(), "kc-notify-"));
  after(async () => {
    detach?.();
    await proxy?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the script receives client-reconfig-script arguments on a builtin failover", async () => {
    const out = join(dir, "calls.txt");
    const script = join(dir, "notify.sh");
    writeFileSync(script, `#!/bin/sh\necho "$#|$*" >> '${out}'\n`);
    chmodSync(script, 0o755);
    const [p0, p1, listen] = await freePorts(3);
    let master: Proc = await startRedis(p0, FAST_SYNC);
    await startRedis(p1, [...FAST_SYNC, "--replicaof", "127.0.0.1", String(p0)]);
    const synced = Date.now() + 5000;
    while (!(await role(p1)).includes("connected")) {
      assert.ok(Date.now() < synced, "the replica never synced");
      await sleep(50);
    }
    proxy = await startProxy(
      configYaml({
        cache: poolConfig(
          listen,
          [
            {
              name: "shard1",
              failover: "builtin",
              notify: script,
              members: [
                { address: `127.0.0.1:${p0}`, role: "master" },
                { address: `127.0.0.1:${p1}`, role: "replica" },
              ],
            },
          ],
          { redis: true, timeout: 1000 },
        ),
      }),
    );
    const ring = new EventRing(100);
    detach = attachReplicaSetEvents(proxy.proxy, ring).detach;

    // Serving (the first ROLE rounds are done) before the kill.
    const ready = Date.now() + 3000;
    while ((await exchange(listen, "SET k v\r\n", (t) => t.endsWith("\r\n"))) !== "+OK\r\n") {
      assert.ok(Date.now() < ready, "the proxy never took a write");
      await sleep(50);
    }
    master.child.kill("SIGKILL");
    const deadline = Date.now() + 8000;
    while (readOr(out) === "" && Date.now() < deadline) await sleep(50);
    assert.equal(
      readOr(out).trim(),
      `7|shard1 leader failover 127.0.0.1 ${p0} 127.0.0.1 ${p1}`,
      "one call, seven arguments",
    );
    assert.match(await role(p1), /master/);

    // The old master returns: fenced until it follows the new master, then serving again.
    master = await startRedis(p0, FAST_SYNC);
    const back = Date.now() + 8000;
    const subj = `cache/shard1/127.0.0.1:${p0}`;
    while (Date.now() < back) {
      if (ring.list().some((e) => e.subject === subj && e.kind === "restore")) break;
      await sleep(50);
    }
    const events = ring.list().map((e) => `${e.kind} ${e.subject} ${e.message}`);
    const at = (re: RegExp) => events.findIndex((e) => re.test(e));
    const start = at(
      /^failover cache\/shard1 failover check of master 127\.0\.0\.1:\d+: writes held/,
    );
    const sw = at(
      new RegExp(
        `^failover cache/shard1 127\\.0\\.0\\.1:${p0} -> 127\\.0\\.0\\.1:${p1}: master silent`,
      ),
    );
    const fenced = at(new RegExp(`^health ${subj} 127\\.0\\.0\\.1:${p0} fenced`));
    const repoint = at(
      new RegExp(`^replication ${subj} .* told to replicate from 127\\.0\\.0\\.1:${p1}`),
    );
    const unfenced = at(new RegExp(`^restore ${subj} 127\\.0\\.0\\.1:${p0} unfenced`));
    const order = [start, sw, fenced, repoint, unfenced];
    assert.ok(
      order.every((i) => i >= 0) && start < sw && sw < fenced && repoint < unfenced,
      `${JSON.stringify(order)}\n${events.join("\n")}`,
    );
    // Only one failover happened, so the script ran once.
    assert.equal(readOr(out).trim().split("\n").length, 1);
  });
});
