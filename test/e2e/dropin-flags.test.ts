/**
 * Drop-in command lines: memcached's init-script flags for `keepcache node`, nutcracker's for
 * `keepcache run`. Acted on (-d, -P/-p, -u, -t, -v N) or ignored with a warning naming the
 * reason; a misspelt flag gets the closest real one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { freePort, waitForPort } from "../../tools/ports.js";
import { keepcacheBin, pidAlive, start, startMemcached } from "../../tools/procs.js";
import { startNode } from "../helpers/keepcache.js";
import { suiteDir, until } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";

const dir = suiteDir("kc-dropin-");

function cli(args: string[]) {
  return spawnSync(process.execPath, [keepcacheBin(), ...args], {
    encoding: "utf8",
    timeout: 15_000,
    env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
  });
}

async function setGet(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    c.write("set dropin 0 0 2\r\nok\r\nget dropin\r\n");
    assert.equal(await c.readUntil("END\r\n"), "STORED\r\nVALUE dropin 0 2\r\nok\r\nEND\r\n");
  } finally {
    c.close();
  }
}

/** The real uid (first field of Uid:) of a running process. */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m);
  return Number(line?.[1]);
}

describe("keepcache node takes memcached's command line", () => {
  test("Debian's memcached.conf flags: serves, writes the pid file, names what it ignores", async () => {
    const pidFile = join(dir, "node.pid");
    const n = await startNode(
      ["-m", "64", "-u", "memcache", "-l", "127.0.0.1", "-P", pidFile, "-U", "0"].concat([
        "-t",
        "4",
        "-o",
        "modern,hashpower=20",
        "-c",
        "1024",
        "-b",
        "2048",
        "-vv",
      ]),
    );
    await setGet(n.port);
    const pid = n.child.pid!;
    assert.equal(readFileSync(pidFile, "utf8").trim(), String(pid));
    const err = n.output();
    for (const flag of ["-U/--udp-port 0", "-t/--threads 4", "-o/--extended modern,hashpower=20"])
      assert.match(err, new RegExp(`warning: ${flag} ignored: `), err);
    assert.match(err, /-b\/--listen-backlog 2048 ignored/);
    // Run as root (as an init script does), -u memcache drops to that user like memcached.
    const memcacheUid = Number(spawnSync("id", ["-u", "memcache"], { encoding: "utf8" }).stdout);
    const uid = process.getuid?.();
    assert.equal(uidOf(pid), uid === 0 ? memcacheUid : uid);
    await n.stop();
  });

  test("-d -P: the command returns 0 and the node keeps serving in the background", async () => {
    const port = await freePort();
    const pidFile = join(dir, "daemon.pid");
    const r = cli(["node", "-d", "-p", String(port), "-P", pidFile]);
    assert.equal(r.status, 0, r.stderr);
    await until(() => existsSync(pidFile), "the daemon's pid file");
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      assert.ok(pidAlive(pid));
      await waitForPort(port);
      await setGet(port);
    } finally {
      process.kill(pid, "SIGTERM");
    }
    await until(() => !pidAlive(pid) && !existsSync(pidFile), "the daemon stopped, pid file gone");
  });

  test("security and address flags keepcache cannot honour stop the start-up", () => {
    for (const flag of ["-S", "-s"]) {
      const r = cli(["node", flag, ...(flag === "-s" ? ["/tmp/mc.sock"] : [])]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`unknown option '${flag}'`));
    }
  });

  test("a misspelt flag gets the closest one", () => {
    const r = cli(["node", "--memory-limt", "64"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option '--memory-limt' \(did you mean --memory-limit\?\)/);
  });
});

describe("keepcache run takes nutcracker's command line", () => {
  async function conf(): Promise<{ file: string; listen: number }> {
    const mc = await freePort();
    await startMemcached(mc);
    const listen = await freePort();
    const file = join(dir, `nutcracker-${listen}.yml`);
    writeFileSync(
      file,
      `alpha:\n  listen: 127.0.0.1:${listen}\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n    - 127.0.0.1:${mc}:1\n`,
    );
    return { file, listen };
  }

  test("-t/--test-conf checks like `keepcache check`: 0 when valid, 2 and file:line when not", async () => {
    const { file } = await conf();
    for (const t of ["-t", "--test-conf"]) {
      const ok = cli(["run", t, "-c", file]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /: ok \(1 pool, 1 server\)/);
    }
    const bad = join(dir, "bad.yml");
    writeFileSync(
      bad,
      "alpha:\n  listen: 127.0.0.1:1\n  hash: md6\n  servers: [ '127.0.0.1:2:1' ]\n",
    );
    const r = cli(["run", "--test-conf", "--conf-file", bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${bad}:3: alpha\\.hash: must be one of`));
  });

  test("Debian's DAEMON_OPTS: -v N, -s, -a, -i, -m, -p, -o with -d", async () => {
    const { file, listen } = await conf();
    const stats = await freePort();
    const pidFile = join(dir, "nutcracker.pid");
    const log = join(dir, "nutcracker.log");
    const args = ["run", "-d", "-c", file, "-v", "7", "-s", String(stats), "-a", "127.0.0.1"];
    const r = cli(args.concat(["-i", "30000", "-m", "16384", "-p", pidFile, "-o", log]));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /-i\/--stats-interval 30000 ignored/);
    assert.match(r.stderr, /-m\/--mbuf-size 16384 ignored/);
    await until(() => existsSync(pidFile), "run's pid file");
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      await waitForPort(listen);
      await waitForPort(stats);
      await setGet(listen);
      // The daemon's log goes to -o FILE.
      await until(() => /keepcache run ready/.test(readFileSync(log, "utf8")), "the -o log");
    } finally {
      process.kill(pid, "SIGTERM");
    }
    await until(() => !pidAlive(pid) && !existsSync(pidFile), "run stopped, pid file gone");
  });

  test("an invalid config with -d fails in the foreground (exit 2), starting nothing", () => {
    const bad = join(dir, "bad-d.yml");
    writeFileSync(bad, "alpha:\n  listen: 127.0.0.1:1\n  servers: []\n");
    const pidFile = join(dir, "never.pid");
    const r = cli(["run", "-d", "-c", bad, "-p", pidFile]);
    assert.equal(r.status, 2);
    assert.equal(existsSync(pidFile), false);
  });

  test("foreground with -p writes the pid file; --conf gets a suggestion", async () => {
    const { file, listen } = await conf();
    const pidFile = join(dir, "fg.pid");
    const p = await start(
      process.execPath,
      [keepcacheBin(), "run", "-c", file, "-s", "0", "-p", pidFile],
      { port: listen },
    );
    assert.equal(readFileSync(pidFile, "utf8").trim(), String(p.child.pid));
    // SIGTERM before run has installed its handlers would kill it before any exit hook.
    await until(() => p.output().includes("keepcache run ready"), "run ready");
    await p.stop();
    assert.equal(existsSync(pidFile), false);
    const r = cli(["run", "--conf", file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option '--conf' \(did you mean --conf-file\?\)/);
  });
});
