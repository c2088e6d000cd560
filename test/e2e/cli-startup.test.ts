/**
 * How the CLI refuses to start (README "Exit codes"): every listener a command was asked to
 * open is open, or the process exits 3 with one line naming the address, what it is for and
 * the cause; every config failure exits 2 with file and line, bounded in time and memory.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { runCli } from "../helpers/cli.js";

/** A port some other process holds for the whole file. */
let busy: net.Server;
let busyPort: number;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "kc-startup-"));
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as net.AddressInfo).port;
});
after(async () => {
  await new Promise((r) => busy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** Exactly one stderr line, naming the busy address, what it is for and EADDRINUSE. */
function assertOneListenLine(stderr: string, what: string): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(
    lines[0],
    new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort} \\(${what}\\): EADDRINUSE`),
  );
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

describe("keepcache node: every port or exit 3", () => {
  test("a busy replication port", async () => {
    const [port] = await freePorts(1);
    const r = await runCli(["node", "-p", String(port), "--replication-port", String(busyPort)]);
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "replication port");
  });

  test("a busy client port", async () => {
    const r = await runCli(["node", "-p", String(busyPort)]);
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "client port");
  });

  test("a busy admin port", async () => {
    const [port] = await freePorts(1);
    const r = await runCli(["node", "-p", String(port), "--admin", `127.0.0.1:${busyPort}`]);
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "admin");
  });
});

describe("keepcache run: every port or exit 3", () => {
  test("a busy pool port", async () => {
    const [stats] = await freePorts(1);
    const f = write(
      "busy-pool.yml",
      `alpha:\n  listen: 127.0.0.1:${busyPort}\n  servers: ["127.0.0.1:11211:1"]\n`,
    );
    const r = await runCli(["run", "-c", f, "-s", String(stats)]);
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "pool alpha");
  });

  test("a busy stats port (the pool opened before it is closed again)", async () => {
    const [pool] = await freePorts(1);
    const f = write(
      "ok-pool.yml",
      `alpha:\n  listen: 127.0.0.1:${pool}\n  servers: ["127.0.0.1:11211:1"]\n`,
    );
    const r = await runCli(["run", "-c", f, "-s", String(busyPort)], {
      env: { KEEPCACHE_LOG_LEVEL: "warn" },
    });
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "stats port");
  });

  test("a busy tcp service port", async () => {
    const [stats] = await freePorts(1);
    const f = write(
      "busy-tcp.yml",
      `tcp:\n  web:\n    listen: 127.0.0.1:${busyPort}\n    servers: [{ address: "127.0.0.1:9" }]\n`,
    );
    const r = await runCli(["run", "-c", f, "-s", String(stats)]);
    assert.equal(r.status, 3, r.stderr);
    assertOneListenLine(r.stderr, "tcp service web");
  });
});

describe("config failures exit 2 with file and line", () => {
  // Each level's alias is 9 of the previous one: 9^9 values if expanded.
  const levels = "abcdefghi";
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...[...levels.slice(1)].map(
      (l, i) => `${l}: &${l} [${Array(9).fill(`*${levels[i]}`).join(",")}]`,
    ),
  ].join("\n");

  for (const cmd of ["check", "run", "vrrp"]) {
    test(`an alias bomb: keepcache ${cmd}, within 1 s of CPU and 100 MB`, async () => {
      const f = write(`bomb-${cmd}.yml`, `${bomb}\n`);
      const r = await runCli([cmd, "-c", f]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, "\\.")}:\\d+: alias \\*[a-i] `));
      assert.ok(r.cpuMs < 1000, `${r.cpuMs} ms of CPU`);
      assert.ok(r.maxRssMb < 100, `${r.maxRssMb} MB peak`);
    });
  }

  test("a keepalived.conf that does not parse, through run and vrrp", async () => {
    const f = write(
      "keepalived.conf",
      "global_defs {\n  router_id a\n}\nvrrp_instance VI_1 {\n  state MASTER\n  interface lo\n",
    );
    for (const cmd of ["run", "vrrp"]) {
      const r = await runCli([cmd, "-c", f]);
      assert.equal(r.status, 2, `${cmd}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /keepalived\.conf:4: vrrp_instance: block opened here is never closed/,
      );
    }
  });

  test("a keepalived.conf including a file that does not exist", async () => {
    const f = write("inc.conf", "include /nonexistent/keepcache-test.conf\n");
    const r = await runCli(["vrrp", "-c", f]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /inc\.conf:1: include: cannot read \/nonexistent\/keepcache-test\.conf: /,
    );
  });
});
