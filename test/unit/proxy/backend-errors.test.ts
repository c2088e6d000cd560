/**
 * Request-path failures are BackendErrors with stable codes (src/errors.ts), and their message
 * is the sentence clients have always seen: a real memcached that stops answering times a
 * request out, a port nobody listens on refuses it (the socket error is the cause), a backend
 * that breaks the protocol (a fault only a scripted one produces) fails it, the operator's
 * disable closes it, and the dedicated-connection pool refuses past its bound.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { parseConfig } from "../../../src/config/index.js";
import { BackendError } from "../../../src/errors.js";
import { Leadership } from "../../../src/failover/leader.js";
import { setControllers } from "../../../src/failover/set-control.js";
import { logger } from "../../../src/log.js";
import { type Dedicated, type LeaseHolder, routeDedicated } from "../../../src/proxy/dedicated.js";
import { Conn, newForwardPlan } from "../../../src/proxy/driver.js";
import { Kind } from "../../../src/proxy/memcache/expect.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { ProxyPool } from "../../../src/proxy/pool.js";
import { Request, Slot } from "../../../src/proxy/request.js";
import type { BackendServer } from "../../../src/proxy/server.js";
import { freePort } from "../../../tools/ports.js";
import { freeze, startMemcached, stopAll } from "../../../tools/procs.js";
import { configYaml, poolConfig, server } from "../../helpers/pool-config.js";
import { until } from "../../helpers/tcp-backends.js";

const log = logger({ level: "silent" });
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  await stopAll();
});

/** A one-server memcached pool (never listening: requests are handed to its server directly). */
function pool(port: number, options: Record<string, unknown> = {}): ProxyPool {
  const yaml = configYaml({ p: poolConfig(1, [server(port)], options) });
  const p = new ProxyPool(parseConfig(yaml, "t.yml").pools[0], {
    driver: memcacheDriver,
    prober: undefined,
    log,
    global: { total_connections: 0, curr_connections: 0 },
    setControllers: setControllers(new Leadership()),
  });
  cleanup.push(() => p.close());
  return p;
}

function only(p: ProxyPool): BackendServer {
  const s = p.servers[0];
  assert.ok(s.kind === "server");
  return s;
}

/** The client side of the requests: what the data plane hands it, replies and failures. */
class Client implements LeaseHolder {
  readonly id = 0;
  readonly channel = 0;
  closed = false;
  lease: Dedicated | null = null;
  readonly errors: BackendError[] = [];
  readonly replies: string[] = [];
  readonly pool: { counters: { forward_error: number } };
  constructor(p: ProxyPool) {
    this.pool = p;
  }
  deliver(_slot: Slot, buf: Buffer, start: number, end: number): void {
    this.replies.push(buf.toString("latin1", start, end));
  }
  complete(): void {}
  failReply(_slot: Slot, err: BackendError): Buffer {
    this.errors.push(err);
    return Buffer.from(`SERVER_ERROR ${err.message}\r\n`);
  }
  setLease(d: Dedicated | null): void {
    this.lease = d;
  }
  setStreaming(): void {}
  stream(): void {}
  streamLost(): void {}
}

/** Sends `text` (expecting reply shape `kind`) to the pool's server for `client`. */
function send(p: ProxyPool, client: Client, text: string, kind: number): void {
  const req = new Request(new Slot(client), -1, kind, false);
  const b = Buffer.from(text);
  assert.ok(only(p).send(req, client.id, client.channel, b, 0, b.length, false));
}

async function failure(client: Client): Promise<BackendError> {
  await until(() => client.errors.length > 0);
  const [err] = client.errors;
  assert.ok(err instanceof BackendError);
  return err;
}

describe("request-path failures carry stable codes", () => {
  test("a backend that stops answering: KC_BACKEND_TIMEOUT, the sentence clients know", async () => {
    const port = await freePort();
    const mc = await startMemcached(port);
    const p = pool(port, { timeout: 200 });
    const client = new Client(p);
    send(p, client, "version\r\n", Kind.Line);
    await until(() => client.replies.length === 1);
    await freeze(mc.child);
    cleanup.push(() => void mc.child.kill("SIGCONT"));
    send(p, client, "version\r\n", Kind.Line);
    const err = await failure(client);
    assert.equal(err.code, "KC_BACKEND_TIMEOUT");
    assert.equal(err.name, "BackendError");
    assert.equal(err.backend, `127.0.0.1:${port}`);
    assert.equal(err.message, `keepcache: backend 127.0.0.1:${port} timed out after 200 ms`);
    assert.equal(p.counters.forward_error, 1);
  });

  test("the operator disables a server with a request in flight: KC_BACKEND_CLOSED", async () => {
    const port = await freePort();
    const mc = await startMemcached(port);
    await freeze(mc.child);
    cleanup.push(() => void mc.child.kill("SIGCONT"));
    const p = pool(port);
    const client = new Client(p);
    send(p, client, "version\r\n", Kind.Line);
    await until(() => only(p).counters.server_connections === 1);
    p.control.disable(only(p));
    const err = await failure(client);
    assert.equal(err.code, "KC_BACKEND_CLOSED");
    assert.equal(err.message, `keepcache: backend 127.0.0.1:${port} was disabled by the operator`);
  });

  test("nobody listens: KC_BACKEND_CLOSED with the socket's error as the cause", async () => {
    const port = await freePort();
    const p = pool(port);
    const client = new Client(p);
    send(p, client, "version\r\n", Kind.Line);
    const err = await failure(client);
    assert.equal(err.code, "KC_BACKEND_CLOSED");
    assert.equal(err.message, `keepcache: backend 127.0.0.1:${port} refused the connection`);
    assert.ok(err.cause instanceof Error);
    assert.equal((err.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
  });

  test("a reply that breaks the protocol: KC_BACKEND_PROTOCOL", async () => {
    // A data block one byte longer than its VALUE line says (protocol.txt "get"): no real
    // memcached sends it, so a scripted backend does.
    const fake = net.createServer((s) => {
      s.on("error", () => {});
      s.on("data", () => s.write("VALUE k 0 1\r\nxyz\r\nEND\r\n"));
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => fake.close(() => r())));
    const port = (fake.address() as net.AddressInfo).port;
    const p = pool(port);
    const client = new Client(p);
    send(p, client, "get k\r\n", Kind.Multi);
    const err = await failure(client);
    assert.equal(err.code, "KC_BACKEND_PROTOCOL");
    assert.equal(err.message, `keepcache: backend 127.0.0.1:${port} broke the protocol`);
  });

  test("dedicated connections past the bound, or to another server: OVERLOADED, UNAVAILABLE", async () => {
    const port = await freePort();
    const p = pool(port);
    p.dedicatedLimit = 1;
    const s = only(p);
    const dedicated = s.dedicatedPool();
    assert.ok(!(dedicated.acquire(0) instanceof BackendError));
    const refused = dedicated.acquire(0);
    assert.ok(refused instanceof BackendError);
    assert.equal(refused.code, "KC_BACKEND_OVERLOADED");
    assert.equal(
      refused.message,
      `keepcache: backend 127.0.0.1:${port} has all 1 dedicated connections in use (redis_dedicated_connections in the pool config)`,
    );
    assert.equal(s.counters.dedicated_refused, 1);

    // A client that holds a dedicated connection for entry 0 asks for one to entry 1.
    p.dedicatedLimit = 2;
    const client = new Client(p);
    const plan = newForwardPlan(Kind.Line);
    plan.conn = Conn.Hold;
    const route = (idx: number) => {
      const slot = new Slot(client);
      assert.ok(routeDedicated(client, slot, plan, idx, new Request(slot, -1, 0, false), s));
    };
    route(0);
    assert.notEqual(client.lease, null);
    route(1);
    // Refused at once (the held connection's own outcome comes later, from its socket).
    assert.equal(client.errors.length, 1);
    const [err] = client.errors;
    assert.equal(err.code, "KC_BACKEND_UNAVAILABLE");
    assert.equal(
      err.message,
      `keepcache: this connection already holds a dedicated connection to another server than 127.0.0.1:${port}`,
    );
    s.closeDedicated("test over");
  });
});
