/**
 * `keepcache node` as an operator meets it: flags, usage errors, limits, signals.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { keepcacheBin, stopAll } from "../../tools/procs.js";
import { startNode } from "../helpers/keepcache.js";
import { RawClient } from "../helpers/line-client.js";

function cli(args: string[]) {
  return spawnSync(process.execPath, [keepcacheBin(), ...args], {
    encoding: "utf8",
    timeout: 10_000,
  });
}

describe("keepcache node CLI", () => {
  after(stopAll);

  test("unknown flag: usage error, exit 2", () => {
    const r = cli(["node", "--bogus"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bogus/);
    assert.match(r.stderr, /usage: keepcache node/);
  });

  test("bad values: exit 2 naming the flag", () => {
    for (const [args, re] of [
      [["-p", "70000"], /-p\/--port: 70000 is out of range/],
      [["-m", "lots"], /-m\/--memory-limit: 'lots' is not a whole number/],
      [["-I", "5q"], /-I\/--max-item-size: '5q' is not a size/],
      [["-c", "0"], /-c\/--conn-limit/],
      [["extra"], /unexpected argument 'extra'/],
    ] as const) {
      const r = cli(["node", ...args]);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test("--help exits 0", () => {
    const r = cli(["node", "--help"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--memory-limit/);
  });

  test("SIGTERM and SIGINT stop the node cleanly (exit 0)", async () => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const n = await startNode();
      const exited = new Promise<number | null>((r) => n.child.once("exit", (code) => r(code)));
      n.child.kill(sig);
      assert.equal(await exited, 0, n.output());
    }
  });

  test("connection limit: the connection past -c is refused as memcached does", async () => {
    const n = await startNode(["-c", "2"]);
    const a = await RawClient.connect(n.port);
    const b = await RawClient.connect(n.port);
    assert.equal(await a.call("version\r\n"), await b.call("version\r\n"));
    const c = await RawClient.connect(n.port);
    assert.equal(await c.readUntil("\r\n"), "SERVER_ERROR Too many open connections\r\n");
    assert.equal(await c.waitClosed(), true);
    a.close();
    b.close();
  });

  test("a line over 2048 bytes with no newline: CLIENT_ERROR line too long, then close", async () => {
    const n = await startNode();
    const c = await RawClient.connect(n.port);
    c.write("x".repeat(3000));
    assert.equal(await c.readUntil("\r\n"), "CLIENT_ERROR line too long\r\n");
    assert.equal(await c.waitClosed(), true);
  });

  test("-I: items above the limit are refused and the stream stays in sync", async () => {
    const n = await startNode(["-I", "2k"]);
    const c = await RawClient.connect(n.port);
    const body = "a".repeat(3000);
    assert.equal(
      await c.call(`set big 0 0 3000\r\n${body}\r\nset ok 0 0 1\r\nx\r\n`, "STORED\r\n"),
      "SERVER_ERROR object too large for cache\r\nSTORED\r\n",
    );
    c.close();
  });

  test("a client that stops reading does not grow the node without bound", async () => {
    const n = await startNode();
    const c = await RawClient.connect(n.port);
    await c.call(`set v 0 0 100000\r\n${"v".repeat(100000)}\r\n`);
    c.sock.pause();
    // ~2 GB of replies requested; the node must stop reading instead of buffering them.
    const req = Buffer.from("get v v v v v v v v v v\r\n".repeat(2000));
    for (let i = 0; i < 50; i++) c.sock.write(req);
    await new Promise((r) => setTimeout(r, 1500));
    const rss =
      Number(
        /VmRSS:\s+(\d+)/.exec(
          (await import("node:fs")).readFileSync(`/proc/${n.child.pid}/status`, "utf8"),
        )?.[1],
      ) * 1024;
    assert.ok(rss < 400 * 1024 * 1024, `node RSS ${rss} bytes while a client is not reading`);
    c.close();
    // And the node still serves others.
    const d = await RawClient.connect(n.port);
    assert.match(await d.call("version\r\n"), /^VERSION /);
    d.close();
  });
});
