/**
 * The operator signals on the real CLI (compiled dist/, child processes): SIGUSR1 to `node`,
 * `run` and `up` leaves each running, opens no listening port (Node's inspector would open
 * 9229) and writes the state dump; SIGHUP leaves `node` and `run` running; a rotated log file
 * (rename, SIGHUP) is reopened and new lines go to the new file; an inspector opened through
 * NODE_OPTIONS is closed at startup. (`vrrp`: test/e2e/vrrp-reload.test.ts, in namespaces.)
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, startMemcached } from "../../tools/procs.js";
import { startRun, suiteDir, until } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";

const run = promisify(execFile);

/** The TCP ports `pid` listens on (ss -ltnp: every socket of the process, its threads too). */
async function listening(pid: number): Promise<number[]> {
  const out = (await run("ss", ["-Hltnp"])).stdout;
  return out
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(l.split(/\s+/)[3]?.split(":").at(-1)))
    .sort((a, b) => a - b);
}

interface Dump {
  command: string;
  pid: number;
  [section: string]: unknown;
}

/**
 * Sends SIGUSR1 and waits for the dump at `file`; checks the process still runs, listens on
 * exactly the ports it had, and logged the dump (`logText`: its log). Returns the dump.
 */
async function usr1(p: Proc, file: string, logText = () => p.output()): Promise<Dump> {
  const pid = p.child.pid as number;
  rmSync(file, { force: true });
  const before = await listening(pid);
  const debuggers = p.output().match(/Debugger listening/g)?.length ?? 0;
  assert.ok(before.length > 0, "the process listens somewhere");
  p.child.kill("SIGUSR1");
  await until(() => existsSync(file), `the dump at ${file}`, 5000);
  // The inspector would be listening by now (it opens synchronously on the signal).
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(p.child.exitCode, null, `still running after SIGUSR1:\n${p.output()}`);
  assert.deepEqual(await listening(pid), before, "no new listening port");
  assert.equal(p.output().match(/Debugger listening/g)?.length ?? 0, debuggers, "no inspector");
  assert.match(logText(), /state dump \(SIGUSR1\)/);
  const dump = JSON.parse(readFileSync(file, "utf8")) as Dump;
  assert.equal(dump.pid, pid);
  return dump;
}

describe("operator signals", { timeout: 90_000 }, () => {
  const dir = suiteDir("kc-signals-");

  test("node: SIGUSR1 dumps stats and peers to the default file, SIGHUP reopens a rotated log", async () => {
    const [port, peer] = await freePorts(2);
    const log = join(dir, "node.log");
    const env = {
      ...process.env,
      KEEPCACHE_LOG_FORMAT: "json",
      KEEPCACHE_LOG_FILE: log,
      // An inspector asked for through the environment is closed at startup.
      NODE_OPTIONS: "--inspect=127.0.0.1:0",
    };
    const node = await start(
      process.execPath,
      [keepcacheBin(), "node", "-p", String(port), "-x", `127.0.0.1:${peer}`],
      { port, env },
    );
    const pid = node.child.pid as number;
    assert.match(node.output(), /closed the Node inspector that NODE_OPTIONS opened/);
    assert.deepEqual(
      await listening(pid),
      [port, port + 1].sort((a, b) => a - b),
    );

    const file = join(tmpdir(), `keepcache-node-${pid}.json`);
    try {
      const dump = await usr1(node, file, () => readFileSync(log, "utf8"));
      assert.equal(dump.command, "node");
      const n = dump.node as { listen: string; stats: Record<string, string>; peers: unknown[] };
      assert.equal(n.listen, `127.0.0.1:${port}`);
      assert.equal(n.stats.pid, String(pid));
      assert.equal(n.peers.length, 1);
    } finally {
      rmSync(file, { force: true });
    }

    await until(() => readFileSync(log, "utf8").includes("keepcache node ready"), "the log file");
    renameSync(log, `${log}.1`);
    node.child.kill("SIGHUP");
    await until(() => existsSync(log), "a new log file after SIGHUP");
    await until(() => readFileSync(log, "utf8").includes("SIGHUP: log reopened"), "the new file");
    assert.equal(node.child.exitCode, null, "SIGHUP leaves the node running");
    assert.doesNotMatch(readFileSync(`${log}.1`, "utf8"), /SIGHUP/);
    // No key twice in a line (the node's admin and replication loggers used to repeat
    // `component`).
    for (const line of readFileSync(`${log}.1`, "utf8").trim().split("\n")) {
      assert.equal(line.match(/"component":/g)?.length ?? 0, 1, line);
    }
    await node.stop("SIGTERM");
    assert.equal(node.child.exitCode, 0);
  });

  test("run (workers: 2): SIGUSR1 dumps pools, tcp services and workers; log.file rotated and reopened on SIGHUP by every process", async () => {
    const [mc, listen, tcpListen, stats] = await freePorts(4);
    await startMemcached(mc);
    const log = join(dir, "run.log");
    const dumpFile = join(dir, "run-dump.json");
    const file = join(dir, "run.yml");
    const yaml = [
      "log:",
      `  file: ${log}`,
      "  format: json",
      "workers: 2",
      "pools:",
      "  cache:",
      `    listen: 127.0.0.1:${listen}`,
      `    servers: ["127.0.0.1:${mc}:1"]`,
      "tcp:",
      "  mc:",
      `    listen: 127.0.0.1:${tcpListen}`,
      `    servers: [{ address: "127.0.0.1:${mc}" }]`,
      "",
    ].join("\n");
    const proc = await startRun(file, yaml, {
      listen,
      stats,
      env: { ...process.env, KEEPCACHE_DUMP_FILE: dumpFile },
    });
    await until(() => readFileSync(log, "utf8").includes("keepcache run ready"), "log.file");
    const dump = await usr1(proc, dumpFile, () => readFileSync(log, "utf8"));
    assert.equal(dump.command, "run");
    const pools = dump.pools as { name: string; shards: { members: { address: string }[] }[] }[];
    assert.equal(pools[0].name, "cache");
    assert.equal(pools[0].shards[0].members[0].address, `127.0.0.1:${mc}`);
    const tcp = dump.tcp as { name: string; servers: { health: string }[] }[];
    assert.equal(tcp[0].name, "mc");
    assert.deepEqual(dump.vrrp, []);
    const workers = dump.workers as { proxy: number[]; tcp: number[] };
    assert.equal(workers.proxy.length, 1);
    assert.equal(workers.tcp.length, 1);

    renameSync(log, `${log}.1`);
    proc.child.kill("SIGHUP");
    await until(
      () => existsSync(log) && readFileSync(log, "utf8").includes("reload done"),
      "the reload logged in the new log.file",
    );
    assert.doesNotMatch(readFileSync(`${log}.1`, "utf8"), /SIGHUP/);
    assert.equal(proc.child.exitCode, null, "SIGHUP leaves run running");
    // The workers write the same log.file and reopened it with the primary; SIGUSR1 to one
    // is answered in the log (the primary writes the dump), never with an inspector port.
    for (const pid of [...workers.proxy, ...workers.tcp]) {
      const ports = await listening(pid);
      process.kill(pid, "SIGUSR1");
      await until(
        () => readFileSync(log, "utf8").includes(`"pid":${pid},"component":"worker"`),
        `worker ${pid} logging in the new file`,
      );
      assert.deepEqual(await listening(pid), ports, `worker ${pid}: no new listening port`);
    }
    assert.doesNotMatch(readFileSync(`${log}.1`, "utf8"), /"component":"worker"/);
    const c = await RawClient.connect(listen);
    assert.equal(await c.call("set k 0 0 1\r\nv\r\n"), "STORED\r\n");
    c.sock.destroy();
    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0);
  });

  test("up: SIGUSR1 dumps the pool and its member processes", async () => {
    const [port, admin] = await freePorts(2);
    const dumpFile = join(dir, "up-dump.json");
    const up = await start(
      process.execPath,
      [keepcacheBin(), "up", "--port", String(port), "--admin", `127.0.0.1:${admin}`],
      {
        port,
        env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json", KEEPCACHE_DUMP_FILE: dumpFile },
        timeoutMs: 20_000,
      },
    );
    await until(() => up.output().includes("keepcache up ready"), "up ready", 10_000);
    const dump = await usr1(up, dumpFile);
    assert.equal(dump.command, "up");
    const members = dump.members as { pid: number; alive: boolean }[];
    assert.equal(members.length, 2);
    assert.ok(members.every((m) => m.alive && m.pid > 0));
    assert.equal((dump.pools as unknown[]).length, 1);
    await up.stop("SIGTERM");
    assert.equal(up.child.exitCode, 0, up.output());
  });

  test("journald: with stderr the journal stream, every line carries its syslog priority", async () => {
    const [port, port2] = await freePorts(2);
    const out = join(dir, "journal.txt");
    const fd = openSync(out, "w");
    const st = fstatSync(fd);
    const child = spawn(process.execPath, [keepcacheBin(), "node", "-p", String(port)], {
      stdio: ["ignore", "ignore", fd],
      env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}`, KEEPCACHE_LOG_FORMAT: "" },
    });
    closeSync(fd);
    const exited = new Promise((r) => child.once("exit", r));
    try {
      await until(() => readFileSync(out, "utf8").includes("keepcache node ready"), "node ready");
      // JOURNAL_STREAM naming another stream (a child of a service writing to a pipe): no prefix.
      const other = await start(process.execPath, [keepcacheBin(), "node", "-p", String(port2)], {
        port: port2,
        env: {
          ...process.env,
          JOURNAL_STREAM: `${st.dev}:${st.ino + 1}`,
          KEEPCACHE_LOG_FORMAT: "",
        },
      });
      await until(() => other.output().includes("keepcache node ready"), "second node ready");
      assert.match(other.output(), /^\{"level":30,/);
      await other.stop("SIGTERM");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    const lines = readFileSync(out, "utf8").trim().split("\n");
    assert.ok(lines.length >= 2, lines.join("\n"));
    // sd-daemon(3) prefixes; info is 6. JSON by default (stderr is not a terminal).
    for (const l of lines) assert.match(l, /^<6>\{"level":30,/, l);
  });
});
