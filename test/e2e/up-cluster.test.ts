/**
 * `keepcache up` as a user runs it (the compiled CLI, a child process): it starts, serves set
 * and get through its proxy, survives kill -9 of the serving node (the dashboard, in headless
 * Debian chromium, shows it down within 2 s and the failover in its history), restarts the node
 * from the page's button, and stops on SIGINT leaving no process behind. `--redis` does the
 * same over redis-server. The screenshot docs/screenshots/up-dashboard.png is taken here.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";
import type { StatusDocument } from "../../src/admin/status.js";
import { freePorts, waitForPort } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { screenshotPath } from "../helpers/screenshots.js";

const CHROMIUM = "/usr/bin/chromium";

/** Pids whose parent is `pid` (from /proc/<n>/stat, field 4). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {}
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ");
  } catch {
    return "";
  }
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what} (${last ?? "no value"})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function status(admin: number): Promise<StatusDocument> {
  return (await (await fetch(`http://127.0.0.1:${admin}/api/v1/status`)).json()) as StatusDocument;
}

/** The member child serving `port`. */
function memberPid(up: number, port: number): number {
  // keepcache nodes: "-p PORT" in argv; redis-server rewrites its title to "HOST:PORT".
  const serves = (c: number) => {
    const line = cmdline(c);
    return line.includes(` -p ${port} `) || line.includes(`:${port} `) || line.endsWith(`:${port}`);
  };
  const pid = childrenOf(up).find(serves);
  assert.ok(pid, `no child serves ${port}: ${childrenOf(up).map(cmdline).join(" | ")}`);
  return pid;
}

async function memcacheSetGet(port: number, key: string, value: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    const stored = await c.call(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`);
    if (stored !== "STORED\r\n") return stored;
    return await c.call(`get ${key}\r\n`, "END\r\n");
  } finally {
    c.close();
  }
}

async function stopCleanly(up: Proc, kids: number[]): Promise<void> {
  const exited = new Promise<number | null>((r) => up.child.once("exit", (code) => r(code)));
  up.child.kill("SIGINT");
  const code = await Promise.race([
    exited,
    new Promise<"hung">((r) => setTimeout(() => r("hung"), 10_000)),
  ]);
  assert.equal(code, 0, `exit: ${code}\n${up.output().slice(-2000)}`);
  for (const k of kids)
    assert.equal(alive(k), false, `child ${k} outlived keepcache up: ${cmdline(k)}`);
}

describe("keepcache up (keepcache nodes)", () => {
  let ctx: BrowserContext | undefined;
  const profile = mkdtempSync(join(tmpdir(), "kc-up-chromium-"));
  after(async () => {
    await ctx?.close();
    await stopAll();
    rmSync(profile, { recursive: true, force: true });
  });

  test("starts, serves, fails over on kill -9 (seen on the dashboard), restarts a node, stops on SIGINT", async () => {
    const [port, admin] = await freePorts(2);
    const up = await start(
      process.execPath,
      [keepcacheBin(), "up", "--port", String(port), "--admin", `127.0.0.1:${admin}`],
      { port, env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" }, timeoutMs: 20_000 },
    );
    const upPid = up.child.pid as number;
    await waitForPort(admin);
    await until("banner", 5000, async () =>
      up.output().includes("Ctrl-C stops everything") ? true : undefined,
    );
    assert.match(up.output(), new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(up.output(), /Try it:/);
    const kids = childrenOf(upPid);
    assert.ok(kids.length >= 2, `children: ${kids}`);

    assert.equal(
      await memcacheSetGet(port, "hello", "world"),
      "VALUE hello 0 5\r\nworld\r\nEND\r\n",
    );
    const doc = await status(admin);
    const [a, b] = doc.nodes as { name: string; address: string }[];
    assert.deepEqual([a.name, b.name], ["node-a", "node-b"]);
    // Replicated to the standby before the serving node dies.
    const bPort = Number(b.address.split(":")[1]);
    await until("replication to node-b", 3000, async () => {
      const c = await RawClient.connect(bPort);
      const r = await c.call("get hello\r\n", "END\r\n");
      c.close();
      return r.includes("world") ? true : undefined;
    });

    assert.ok(existsSync(CHROMIUM), "chromium missing: scripts/install-deps.sh installs it");
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
      viewport: { width: 1280, height: 860 },
      timeout: 30_000,
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(5000);
    await page.goto(`http://127.0.0.1:${admin}/`);
    await page.locator('[data-node="node-a"][data-state="up"]').waitFor();
    await page.locator('[data-node="node-b"][data-state="up"]').waitFor();
    await page.locator('[data-pool="demo"] tr[data-server="node-a"][data-health="up"]').waitFor();

    const aPid = memberPid(upPid, Number(a.address.split(":")[1]));
    const t0 = Date.now();
    process.kill(aPid, "SIGKILL");
    await page.locator('[data-node="node-a"][data-state="down"]').waitFor({ timeout: 2000 });
    assert.ok(Date.now() - t0 <= 2000);
    // Service continues through the proxy on node-b: old data, new writes.
    const first = await until("first request after the kill", 3000, async () => {
      const c = await RawClient.connect(port);
      const r = await c.call("get hello\r\n", "END\r\n").finally(() => c.close());
      return r.includes("world") ? Date.now() - t0 : undefined;
    });
    assert.ok(first < 3000, `served again after ${first} ms`);
    for (let i = 0; i < 20; i++) {
      assert.equal(
        await memcacheSetGet(port, `after${i}`, "v"),
        `VALUE after${i} 0 1\r\nv\r\nEND\r\n`,
      );
    }
    await page.locator("#events .ev", { hasText: "node-a -> node-b" }).waitFor({ timeout: 2000 });
    await page
      .locator('[data-pool="demo"] tr[data-server="node-b"]', { hasText: "master" })
      .waitFor();
    await page.locator("#toast:not(.show)").waitFor({ timeout: 4000 });
    await page.screenshot({ path: screenshotPath("up-dashboard.png"), fullPage: true });

    // The page's start button brings node-a back (it rejoins as the standby).
    await page.locator('[data-node="node-a"] button', { hasText: "start" }).click();
    await page.locator('[data-node="node-a"][data-state="up"]').waitFor({ timeout: 8000 });
    await page.locator('[data-pool="demo"] tr[data-server="node-a"][data-health="up"]').waitFor();

    await stopCleanly(up, childrenOf(upPid).concat(kids));
  });
});

describe("keepcache up --redis", () => {
  after(() => stopAll());

  test("master + replica behind the proxy; kill -9 of the master promotes the replica", async () => {
    const [port, admin] = await freePorts(2);
    const up = await start(
      process.execPath,
      [keepcacheBin(), "up", "--redis", "--port", String(port), "--admin", `127.0.0.1:${admin}`],
      { port, env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" }, timeoutMs: 20_000 },
    );
    const upPid = up.child.pid as number;
    await waitForPort(admin);
    const c = await RawClient.connect(port);
    assert.equal(await c.call("SET k1 v1\r\n"), "+OK\r\n");
    c.close();
    const doc = await status(admin);
    const master = doc.nodes.find((n) => "name" in n && n.name === "redis-a") as {
      address: string;
    };
    const replica = doc.nodes.find((n) => "name" in n && n.name === "redis-b") as {
      address: string;
    };
    const rPort = Number(replica.address.split(":")[1]);
    await until("replication", 5000, async () => {
      const r = await RawClient.connect(rPort);
      const v = await r.call("GET k1\r\n").finally(() => r.close());
      return v.startsWith("$2") ? true : undefined;
    });
    const kids = childrenOf(upPid);
    const t0 = Date.now();
    process.kill(memberPid(upPid, Number(master.address.split(":")[1])), "SIGKILL");
    const took = await until("a write after the kill", 5000, async () => {
      const w = await RawClient.connect(port);
      const r = await w.call("SET k2 v2\r\n").finally(() => w.close());
      return r === "+OK\r\n" ? Date.now() - t0 : undefined;
    });
    assert.ok(took < 3000, `writable again after ${took} ms`);
    const g = await RawClient.connect(port);
    assert.equal(await g.call("GET k1\r\n", "v1\r\n"), "$2\r\nv1\r\n");
    g.close();
    const after = await status(admin);
    assert.equal(
      after.pools[0] && "failovers" in after.pools[0] ? after.pools[0].failovers : -1,
      1,
    );
    await stopCleanly(up, kids);
  });
});
