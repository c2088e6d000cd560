import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { type Action, ActionError } from "../../../src/admin/actions.js";
import { AdminServer } from "../../../src/admin/http.js";
import {
  DEFAULT_ADMIN_LISTEN,
  isLoopbackHost,
  parseAdminListen,
} from "../../../src/admin/listen.js";
import type { VrrpStatus } from "../../../src/admin/status.js";
import { ConfigError, UsageError } from "../../../src/errors.js";

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** A raw request (so tests control Host, Origin and Content-Type exactly). */
function request(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers: opts.headers, timeout: 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.end(opts.body);
  });
}

const JSON_CT = { "Content-Type": "application/json" };

describe("admin listener safety", () => {
  test("loopback by default", () => {
    const { log } = captureLog();
    const a = new AdminServer({ log });
    assert.deepEqual(a.listenAt, DEFAULT_ADMIN_LISTEN);
    assert.ok(DEFAULT_ADMIN_LISTEN.kind === "tcp" && isLoopbackHost(DEFAULT_ADMIN_LISTEN.host));
  });

  test("a non-loopback listener without a token refuses to start", () => {
    const { log } = captureLog();
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "example.com"]) {
      assert.throws(
        () => new AdminServer({ log, listen: { kind: "tcp", host, port: 0 }, source: "--admin" }),
        (e: unknown) =>
          e instanceof ConfigError &&
          /admin\.token/.test(e.message) &&
          e.message.startsWith("--admin"),
      );
      // With a token it is allowed (constructed only: nothing binds to a public address here).
      new AdminServer({ log, listen: { kind: "tcp", host, port: 0 }, token: "s3cret" });
    }
    new AdminServer({ log, listen: { kind: "unix", path: "/tmp/x.sock", mode: undefined } });
  });

  test("loopback names and --admin parsing", () => {
    for (const h of ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
      assert.ok(isLoopbackHost(h), h);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "evil.com", "localhost.evil.com"]) {
      assert.ok(!isLoopbackHost(h), h);
    }
    assert.deepEqual(parseAdminListen("--admin", "127.0.0.1:0"), {
      kind: "tcp",
      host: "127.0.0.1",
      port: 0,
    });
    assert.deepEqual(parseAdminListen("--admin", "[::1]:9180"), {
      kind: "tcp",
      host: "::1",
      port: 9180,
    });
    assert.equal(parseAdminListen("--admin", "/run/kc.sock").kind, "unix");
    for (const bad of ["9180", ":9180", "host:", "host:99999", "host:x"]) {
      assert.throws(() => parseAdminListen("--admin", bad), UsageError, bad);
    }
  });
});

describe("admin API", () => {
  const { log, lines } = captureLog();
  const token = "t0ken-with-some-length";
  const admin = new AdminServer({
    log,
    token,
    listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
    processMetrics: false,
    streamIntervalMs: 100,
  });
  const open = new AdminServer({
    log,
    listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
    processMetrics: false,
  });
  const seen: Action[] = [];
  let port = 0;
  let openPort = 0;
  const vrrp: VrrpStatus = {
    name: "VI_1",
    vrid: 51,
    interface: "eth0",
    state: "MASTER",
    priority: 100,
    effectivePriority: 102,
    vips: ["10.0.0.100/24"],
  };

  before(async () => {
    admin.status.register({ kind: "vrrp", name: "VI_1", snapshot: () => vrrp });
    admin.status.register({
      kind: "node",
      name: "broken",
      snapshot: () => {
        throw new Error("snapshot failed");
      },
    });
    admin.actions.register({
      kind: "server",
      name: "web",
      handle: (a) => {
        if (a.kind === "server" && a.server === "nope")
          throw new ActionError(404, "no server nope");
        if (a.kind === "server" && a.op === "enable") throw new ActionError(409, "already enabled");
        seen.push(a);
        return { message: "done" };
      },
    });
    admin.actions.register({ kind: "vrrp", name: "*", handle: () => ({ message: "now BACKUP" }) });
    open.actions.register({ kind: "node", name: "n1", handle: () => ({ message: "stopped" }) });
    await admin.listen();
    await open.listen();
    const a = admin.address();
    const b = open.address();
    assert.ok(a.kind === "tcp" && b.kind === "tcp");
    port = a.port;
    openPort = b.port;
    assert.ok(admin.url().startsWith("http://127.0.0.1:"));
  });
  after(async () => {
    await admin.close();
    await open.close();
  });

  test("GET / serves the self-contained dashboard with a CSP that forbids external loads", async () => {
    const r = await request(port, "GET", "/");
    assert.equal(r.status, 200);
    assert.match(String(r.headers["content-type"]), /^text\/html/);
    assert.match(String(r.headers["content-security-policy"]), /default-src 'none'/);
    assert.match(r.body, /<!doctype html>/);
    assert.doesNotMatch(r.body, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(r.body, /@import|url\(\s*["']?https?:/i);
  });

  test("GET /api/v1/status gathers providers, reports failing ones, lists capabilities", async () => {
    const r = await request(port, "GET", "/api/v1/status");
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.body);
    assert.deepEqual(doc.vrrp, [vrrp]);
    assert.deepEqual(doc.nodes, [{ name: "broken", error: "snapshot failed" }]);
    assert.deepEqual(doc.actions.server, ["web"]);
    assert.deepEqual(doc.actions.vrrp, ["*"]);
    assert.equal(typeof doc.version, "string");
  });

  test("unknown pages and actions answer 404/405 with a JSON error", async () => {
    let r = await request(port, "GET", "/nope");
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).error, /no such page/);
    r = await request(port, "GET", "/api/v1/servers/web/s1/drain");
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, "POST");
    r = await request(port, "DELETE", "/api/v1/status");
    assert.equal(r.status, 405);
    r = await request(port, "POST", "/api/v1/servers/web/s1/explode", {
      headers: { ...JSON_CT, Authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 404);
    // A well-formed action nobody handles: 404 naming what is missing.
    r = await request(port, "POST", "/api/v1/pools/cache/failover", {
      headers: { ...JSON_CT, Authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).error, /no pool named 'cache'/);
    r = await request(port, "POST", "/api/v1/servers/web/nope/drain", {
      headers: { ...JSON_CT, Authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 404);
    assert.match(JSON.parse(r.body).error, /no server nope/);
  });

  test("actions need the bearer token when one is configured, and are logged", async () => {
    let r = await request(port, "POST", "/api/v1/servers/web/s1/drain", { headers: JSON_CT });
    assert.equal(r.status, 401);
    assert.match(String(r.headers["www-authenticate"]), /^Bearer/);
    r = await request(port, "POST", "/api/v1/servers/web/s1/drain", {
      headers: { ...JSON_CT, Authorization: "Bearer wrong" },
    });
    assert.equal(r.status, 401);
    assert.equal(seen.length, 0);
    const before = lines.length;
    r = await request(port, "POST", "/api/v1/servers/web/s%2F1/drain", {
      headers: { ...JSON_CT, Authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(seen.at(-1), { kind: "server", pool: "web", server: "s/1", op: "drain" });
    const logged = lines.slice(before).find((l) => l.msg === "admin: server web/s/1 drain");
    assert.ok(logged, JSON.stringify(lines.slice(before)));
    assert.equal((logged.who as { auth: string }).auth, "token");
    assert.equal(logged.result, "ok");
    assert.ok(lines.some((l) => l.msg === "admin action refused"));
    // The event ring records it for the timeline.
    const ev = JSON.parse((await request(port, "GET", "/api/v1/events")).body);
    assert.ok(ev.events.some((e: { kind: string; subject: string }) => e.kind === "action"));
  });

  test("weight, failover and vrrp actions parse their bodies; handler refusals keep their status", async () => {
    const auth = { ...JSON_CT, Authorization: `Bearer ${token}` };
    let r = await request(port, "POST", "/api/v1/servers/web/s1/weight", {
      headers: auth,
      body: '{"weight": 7}',
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(seen.at(-1), {
      kind: "server",
      pool: "web",
      server: "s1",
      op: "weight",
      weight: 7,
    });
    for (const body of ['{"weight": -1}', '{"weight": "7"}', "{}", "[1]", "{bad"]) {
      r = await request(port, "POST", "/api/v1/servers/web/s1/weight", { headers: auth, body });
      assert.equal(r.status, 400, body);
    }
    r = await request(port, "POST", "/api/v1/servers/web/s1/enable", { headers: auth });
    assert.equal(r.status, 409);
    r = await request(port, "POST", "/api/v1/vrrp/VI_1/backup", { headers: auth });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).message, "now BACKUP");
  });

  test("cross-site requests are refused: JSON content type and same Origin required", async () => {
    const auth = { Authorization: `Bearer ${token}` };
    let r = await request(port, "POST", "/api/v1/vrrp/VI_1/backup", {
      headers: { ...auth, "Content-Type": "text/plain" },
    });
    assert.equal(r.status, 415);
    r = await request(port, "POST", "/api/v1/vrrp/VI_1/backup", {
      headers: { ...auth, ...JSON_CT, Origin: "http://evil.example" },
    });
    assert.equal(r.status, 403);
    r = await request(port, "POST", "/api/v1/vrrp/VI_1/backup", {
      headers: { ...auth, ...JSON_CT, Origin: `http://127.0.0.1:${port}` },
    });
    assert.equal(r.status, 200);
  });

  test("without a token, loopback actions work but a rebinding Host is refused", async () => {
    let r = await request(openPort, "POST", "/api/v1/nodes/n1/stop", { headers: JSON_CT });
    assert.equal(r.status, 200, r.body);
    r = await request(openPort, "POST", "/api/v1/nodes/n1/stop", {
      headers: { ...JSON_CT, Host: `evil.example:${openPort}` },
    });
    assert.equal(r.status, 403);
    r = await request(openPort, "POST", "/api/v1/nodes/n2/start", { headers: JSON_CT });
    assert.equal(r.status, 404);
  });

  test("GET /api/v1/events pages with after and limit", async () => {
    for (let i = 0; i < 5; i++)
      admin.events.push({ kind: "health", subject: `s${i}`, message: "down" });
    const all = JSON.parse((await request(port, "GET", "/api/v1/events?limit=1000")).body);
    const last = all.lastSeq;
    const page = JSON.parse(
      (await request(port, "GET", `/api/v1/events?after=${last - 3}&limit=2`)).body,
    );
    assert.deepEqual(
      page.events.map((e: { seq: number }) => e.seq),
      [last - 1, last],
    );
    assert.equal((await request(port, "GET", "/api/v1/events?after=-1")).status, 400);
  });

  test("GET /metrics answers the Prometheus text content type", async () => {
    const r = await request(port, "GET", "/metrics");
    assert.equal(r.status, 200);
    assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  });
  test("/healthz and /readyz answer without the token and name only failing checks", async () => {
    // `admin` has a token: no Authorization header is sent.
    const h = await request(port, "GET", "/healthz");
    assert.equal(h.status, 200);
    assert.deepEqual(JSON.parse(h.body), { status: "ok" });
    assert.deepEqual(JSON.parse((await request(port, "GET", "/readyz")).body), {
      status: "ready",
    });
    let live = false;
    const undo = [
      admin.ready.register({ name: "shards_live", ok: () => live }),
      admin.ready.register({
        name: "pools_listening",
        ok: () => {
          throw new Error("secret detail 10.0.0.9");
        },
      }),
    ];
    const r = await request(port, "GET", "/readyz");
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), {
      status: "not ready",
      failing: ["shards_live", "pools_listening"],
    });
    live = true;
    undo[1]();
    assert.equal((await request(port, "GET", "/readyz")).status, 200);
    undo[0]();
    assert.equal((await request(port, "POST", "/readyz")).status, 405);
  });
});
