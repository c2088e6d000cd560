/**
 * The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; nothing is downloaded). An in-process admin server shows two real cache
 * nodes; the test writes items and stops a node from the page's own button, and the page must
 * reflect each change within 2 s without a reload. Screenshots go to docs/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ActionError } from "../../src/admin/actions.js";
import { AdminServer } from "../../src/admin/http.js";
import { attachNode } from "../../src/admin/node-source.js";
import type { PoolStatus, ServerStatus } from "../../src/admin/status.js";
import { nodeDefaults } from "../../src/node/options.js";
import { CacheNode } from "../../src/node/server.js";
import { RawClient } from "../helpers/line-client.js";
import { screenshotPath } from "../helpers/screenshots.js";

const CHROMIUM = "/usr/bin/chromium";

describe("dashboard in headless Chromium", () => {
  const log = pino({ level: "silent" });
  const admin = new AdminServer({ log, listen: { kind: "tcp", host: "127.0.0.1", port: 0 } });
  const alpha = new CacheNode({ ...nodeDefaults, port: 0, memoryLimitMb: 8 }, log);
  const beta = new CacheNode({ ...nodeDefaults, port: 0, memoryLimitMb: 8 }, log);
  const profile = mkdtempSync(join(tmpdir(), "kc-chromium-"));
  let ctx: BrowserContext | undefined;
  let page: Page;
  let base = "";
  let betaPort = 0;
  const requests: string[] = [];
  const problems: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), "chromium missing: scripts/install-deps.sh installs it");
    await alpha.listen();
    await beta.listen();
    betaPort = beta.address().port;
    attachNode(admin, alpha, { name: "alpha" });
    attachNode(admin, beta, { name: "beta" });
    // What `keepcache up` will register: a per-node stop/start handler.
    admin.actions.register({
      kind: "node",
      name: "beta",
      handle: async (a) => {
        assert.ok(a.kind === "node");
        if (a.op === "start") throw new ActionError(409, "this test does not restart nodes");
        await beta.close();
        admin.events.push({ kind: "node", subject: "beta", message: "stopped", level: "warn" });
        return { message: "beta stopped" };
      },
    });
    await admin.listen();
    base = admin.url();
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(5000);
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
  });

  after(async () => {
    await ctx?.close();
    await admin.close();
    await alpha.close();
    if (beta.listening) await beta.close();
    rmSync(profile, { recursive: true, force: true });
  });

  test("loads, shows both nodes, and goes live over SSE", async () => {
    await page.goto(base, { waitUntil: "load" });
    await page.locator('[data-node="alpha"][data-state="up"]').waitFor();
    await page.locator('[data-node="beta"][data-state="up"]').waitFor();
    await page.locator("#live.on").waitFor();
    assert.equal(await page.locator('[data-node="alpha"]').getAttribute("data-items"), "0");
    assert.match(
      (await page.locator('[data-node="alpha"] .sub').textContent()) ?? "",
      /127\.0\.0\.1:\d+/,
    );
  });

  test("item count follows writes within 2 s, without a reload", async () => {
    const c = await RawClient.connect(alpha.address().port);
    for (let i = 0; i < 25; i++)
      assert.equal(await c.call(`set key${i} 0 0 5\r\nhello\r\n`), "STORED\r\n");
    await c.call("get key1\r\n", "END\r\n");
    c.sock.destroy();
    const t0 = Date.now();
    await page.locator('[data-node="alpha"][data-items="25"]').waitFor({ timeout: 2000 });
    assert.ok(Date.now() - t0 <= 2000);
    assert.match((await page.locator('[data-node="alpha"] .kv').textContent()) ?? "", /100\.0%/);
  });

  test("the stop button (shown only where a handler exists) stops a node; it shows down within 2 s", async () => {
    assert.equal(await page.locator('[data-node="alpha"] button').count(), 0);
    const stop = page.locator('[data-node="beta"] button', { hasText: "stop" });
    await stop.waitFor();
    const t0 = Date.now();
    await stop.click();
    await page.locator('[data-node="beta"][data-state="down"]').waitFor({ timeout: 2000 });
    assert.ok(Date.now() - t0 <= 2000);
    assert.equal(beta.listening, false);
    await page.locator("#events .ev", { hasText: "node beta stop" }).waitFor({ timeout: 2000 });
    await page
      .locator('.tile:has-text("Nodes up") .v', { hasText: "1 / 2" })
      .waitFor({ timeout: 2000 });
    // A stopped node still shows where it was.
    assert.match(
      (await page.locator('[data-node="beta"] .sub').textContent()) ?? "",
      new RegExp(`:${betaPort}$`),
    );
    // Screenshots without the action toast (it fades after 2.5 s).
    await page.locator("#toast:not(.show)").waitFor({ timeout: 4000 });
    await page.screenshot({ path: shot("dashboard-desktop.png"), fullPage: true });
  });

  test("works at phone width: one column, no horizontal scroll", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('[data-node="beta"][data-state="down"]').waitFor();
    const widths = await page.evaluate(() => {
      const d = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } };
        }
      ).document.documentElement;
      return [d.scrollWidth, d.clientWidth];
    });
    assert.ok(widths[0] <= widths[1], `page scrolls sideways: ${widths}`);
    // Both boxes in one page task: the page re-renders every second, between two locator calls.
    const [a, b] = await page.evaluate(() => {
      const doc = (
        globalThis as unknown as {
          document: {
            querySelector(s: string): { getBoundingClientRect(): { x: number; y: number } } | null;
          };
        }
      ).document;
      return ["alpha", "beta"].map((n) => {
        const r = doc.querySelector(`[data-node="${n}"]`)?.getBoundingClientRect();
        return r ? { x: r.x, y: r.y } : null;
      });
    });
    assert.ok(
      a && b && Math.abs(a.x - b.x) < 1 && b.y > a.y,
      `cards stack in one column: ${JSON.stringify([a, b])}`,
    );
    await page.screenshot({ path: shot("dashboard-phone.png"), fullPage: true });
    for (const f of ["dashboard-desktop.png", "dashboard-phone.png"]) {
      const size = statSync(shot(f)).size;
      assert.ok(size > 1000 && size < 400_000, `${f}: ${size} bytes`);
    }
  });

  test("renders pools, VRRP and TCP services from their providers; server buttons run actions", async () => {
    // A second admin plane fed with status documents as the proxy, VRRP and TCP subsystems
    // will report them: this checks the page's renderers and the action round trip.
    const other = new AdminServer({ log, listen: { kind: "tcp", host: "127.0.0.1", port: 0 } });
    const member = (name: string, role: ServerStatus["role"], health: ServerStatus["health"]) => ({
      name,
      address: `10.0.0.${name.length}:6379`,
      role,
      health,
      weight: 1,
      opsPerSec: 1200,
      latencyMs: { p50: 0.21, p99: 1.4 },
      errors: 0,
      ejections: health === "up" ? 0 : 1,
    });
    let drained = "";
    other.status.register({
      kind: "pool",
      name: "sessions",
      snapshot: (): PoolStatus => ({
        name: "sessions",
        protocol: "redis",
        listen: "127.0.0.1:22121",
        distribution: "modula",
        hash: "one_at_a_time",
        clientConnections: 12,
        opsPerSec: 2400,
        errors: 3,
        failovers: 1,
        shards: [
          {
            name: "shard-1",
            members: [
              member("r1", "master", "up"),
              member("r1b", "replica", drained ? "draining" : "up"),
            ],
          },
          {
            name: "shard-2",
            members: [member("r2", "master", "down"), member("r2b", "replica", "up")],
          },
        ],
      }),
    });
    // A Redis Cluster pool: the slot map's nodes, ranges, a slot being moved, refreshes.
    other.status.register({
      kind: "pool",
      name: "cart",
      snapshot: (): PoolStatus => ({
        name: "cart",
        protocol: "redis",
        listen: "127.0.0.1:7100",
        clientConnections: 1,
        opsPerSec: 10,
        errors: 0,
        failovers: 0,
        shards: [],
        cluster: {
          known: true,
          refreshedAt: Date.now() - 3000,
          refreshes: 42,
          refreshErrors: 0,
          moved: 7,
          ask: 3,
          uncoveredSlots: 0,
          nodes: [
            { address: "10.0.1.1:7000", role: "master", health: "up" },
            { address: "10.0.1.2:7000", role: "master", health: "down", detail: "failed" },
            { address: "10.0.1.3:7000", role: "replica", health: "up", master: "10.0.1.1:7000" },
          ],
          shards: [
            {
              master: "10.0.1.1:7000",
              slots: 8193,
              ranges: [
                [0, 8191],
                [9000, 9000],
              ],
              replicas: ["10.0.1.3:7000"],
              health: "online",
            },
            {
              master: "10.0.1.2:7000",
              slots: 8191,
              ranges: [
                [8192, 8999],
                [9001, 16383],
              ],
              replicas: [],
              health: "failed",
            },
          ],
          migrations: [{ slot: 9000, from: "10.0.1.1:7000", to: "10.0.1.2:7000" }],
          migrationsAt: Date.now(),
        },
      }),
    });
    other.status.register({
      kind: "vrrp",
      name: "VI_1",
      snapshot: () => ({
        name: "VI_1",
        vrid: 51,
        interface: "eth0",
        state: "MASTER",
        priority: 100,
        effectivePriority: 102,
        vips: ["10.0.0.100/24"],
      }),
    });
    other.status.register({
      kind: "tcp",
      name: "mycat",
      snapshot: () => ({
        name: "mycat",
        listen: "0.0.0.0:8066",
        algorithm: "wrr",
        active: 4,
        connectionsTotal: 90,
        servers: [{ name: "m1", address: "10.0.0.5:8066", health: "up", weight: 2, active: 4 }],
      }),
    });
    // keepcache run with workers: the processes tile lists every pid.
    other.status.setProcesses(() => ({
      pid: 4100,
      proxyWorkers: [4101, 4102],
      tcpWorkers: [4103],
    }));
    other.actions.register({
      kind: "server",
      name: "sessions",
      handle: (a) => {
        assert.ok(a.kind === "server" && a.op === "drain");
        drained = a.server;
        return { message: `${a.server} draining` };
      },
    });
    await other.listen();
    const p2 = await ctx?.newPage();
    assert.ok(p2);
    const errors: string[] = [];
    p2.on("pageerror", (e) => errors.push(e.message));
    try {
      await p2.goto(other.url());
      await p2.locator('[data-pool="sessions"] tr[data-server="r2"][data-health="down"]').waitFor();
      await p2.locator('[data-vrrp="VI_1"] .pill', { hasText: "MASTER" }).waitFor();
      const cart = p2.locator('[data-pool="cart"]');
      await cart
        .locator('tr[data-cluster-node="10.0.1.1:7000"]', { hasText: "0-8191 9000" })
        .waitFor();
      await cart
        .locator('tr[data-cluster-node="10.0.1.2:7000"] .pill', { hasText: "down" })
        .waitFor();
      await cart
        .locator('tr[data-cluster-node="10.0.1.3:7000"]', { hasText: "replica of 10.0.1.1:7000" })
        .waitFor();
      await cart
        .locator('li[data-slot="9000"]', { hasText: "10.0.1.1:7000 → 10.0.1.2:7000" })
        .waitFor();
      assert.match((await cart.textContent()) ?? "", /42 refreshes · MOVED 7 · ASK 3/);
      await p2.locator('[data-tcp="mycat"]', { hasText: "10.0.0.5:8066" }).waitFor();
      await p2.locator('.tile:has-text("Servers up") .v', { hasText: "3 / 4" }).waitFor();
      const procs = p2.locator(".tile.procs .v");
      await procs.waitFor();
      assert.match(
        (await procs.textContent()) ?? "",
        /^4\s*main 4100 · proxy workers 4101, 4102 · tcp workers 4103$/,
      );
      await p2.locator('tr[data-server="r1b"] button', { hasText: "drain" }).click();
      await p2.locator('tr[data-server="r1b"][data-health="draining"]').waitFor({ timeout: 2000 });
      assert.equal(drained, "r1b");
      // No failover or VRRP handler registered: no such buttons.
      assert.equal(await p2.locator("button", { hasText: "fail over" }).count(), 0);
      assert.equal(await p2.locator("button", { hasText: "force backup" }).count(), 0);
      assert.deepEqual(errors, []);
    } finally {
      await p2.close();
      await other.close();
    }
  });

  test("loaded nothing from anywhere but the admin listener; no script or CSP errors", () => {
    const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith("data:"));
    assert.deepEqual(foreign, []);
    assert.deepEqual(problems, []);
  });

  test("with a token: the login form, then the dashboard live over SSE on the session cookie", async () => {
    const token = "browser-test-token-0123456789";
    const secured = new AdminServer({
      log,
      token,
      listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
    });
    attachNode(secured, alpha, { name: "alpha" });
    await secured.listen();
    const p = await (ctx as BrowserContext).newPage();
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    try {
      const first = await p.goto(secured.url(), { waitUntil: "load" });
      assert.equal(first?.status(), 401);
      await p.locator('input[name="token"]').fill("not-the-token-at-all");
      await p.locator('button[type="submit"]').click();
      await p.locator('[role="alert"]', { hasText: "Wrong token" }).waitFor();
      await p.locator('input[name="token"]').fill(token);
      await p.locator('button[type="submit"]').click();
      await p.locator('[data-node="alpha"][data-state="up"]').waitFor();
      await p.locator("#live.on").waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await p.close();
      await secured.close();
    }
  });
});

function shot(name: string): string {
  return screenshotPath(name);
}
