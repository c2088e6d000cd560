/**
 * TLS on a pool's listener and towards its backends (a self-signed certificate made with
 * openssl at test time), and the twemproxy-compatible stats port's JSON shape.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { StatsServer } from "../../src/proxy/stats.js";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { selfSignedCert } from "../helpers/certs.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

/** One request over TLS; resolves with the reply once it ends with `end`. */
function tlsCall(port: number, ca: Buffer, send: string, end: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca }, () => s.write(send));
    let got = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout; got ${got}`));
    }, 3000);
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.endsWith(end)) {
        clearTimeout(t);
        s.end();
        resolve(got);
      }
    });
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

describe("proxy TLS and stats port", () => {
  let dir: string;
  let cert: string;
  let key: string;
  let px: RunningProxy;
  let ports: number[];
  let forwarder: tls.Server;
  let stats: StatsServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "kc-tls-"));
    ({ cert, key } = selfSignedCert(dir));
    ports = await freePorts(5);
    await startMemcached(ports[0]);
    // A TLS-terminating forwarder in front of memcached: the pool's TLS backend.
    forwarder = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => {
      const up = net.connect({ host: "127.0.0.1", port: ports[0] });
      s.pipe(up).pipe(s);
      s.on("error", () => up.destroy());
      up.on("error", () => s.destroy());
    });
    await new Promise<void>((r) => forwarder.listen(ports[1], "127.0.0.1", () => r()));
    px = await startProxy(`
secure_in:
  listen: 127.0.0.1:${ports[2]}
  tls: { cert: ${cert}, key: ${key} }
  servers:
    - 127.0.0.1:${ports[0]}:1
secure_out:
  listen: 127.0.0.1:${ports[3]}
  server_tls: { ca: ${cert} }
  servers:
    - 127.0.0.1:${ports[1]}:1 tlsbackend
`);
    stats = new StatsServer(px.proxy);
    await stats.listen(ports[4], "127.0.0.1");
  });
  after(async () => {
    await stats?.close();
    await px?.stop();
    await new Promise<void>((r) => (forwarder ? forwarder.close(() => r()) : r()));
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a TLS client reaches memcached through the pool's TLS listener", async () => {
    const ca = readFileSync(cert);
    assert.equal(await tlsCall(ports[2], ca, "set t1 0 0 2\r\nok\r\n", "\r\n"), "STORED\r\n");
    assert.equal(
      await tlsCall(ports[2], ca, "get t1\r\n", "END\r\n"),
      "VALUE t1 0 2\r\nok\r\nEND\r\n",
    );
    // Plain text on the TLS port gets no memcached reply.
    await assert.rejects(exchange(ports[2], "version\r\n", (s) => s.startsWith("VERSION"), 500));
  });

  test("server_tls: the pool talks TLS to its backend, verifying it against ca", async () => {
    assert.equal(
      await exchange(ports[3], "set t2 0 0 1\r\nx\r\n", (s) => s.endsWith("\r\n")),
      "STORED\r\n",
    );
    const direct = await exchange(ports[0], "get t2\r\n", (s) => s.endsWith("END\r\n"));
    assert.equal(direct, "VALUE t2 0 1\r\nx\r\nEND\r\n");
  });

  test("the stats port serves twemproxy's JSON shape, fresh on each connection", async () => {
    const doc = JSON.parse(await exchange(ports[4], "", (s) => s.endsWith("}\n")));
    for (const k of ["service", "source", "version", "uptime", "timestamp"]) assert.ok(k in doc, k);
    assert.equal(typeof doc.total_connections, "number");
    assert.equal(typeof doc.curr_connections, "number");
    const pool = doc.secure_out;
    assert.deepEqual(Object.keys(pool).slice(0, 6), [
      "client_eof",
      "client_err",
      "client_connections",
      "server_ejects",
      "forward_error",
      "fragments",
    ]);
    // Named server: its name is the key (twemproxy); unnamed: host:port.
    const srv = pool.tlsbackend;
    assert.deepEqual(Object.keys(srv), [
      "server_eof",
      "server_err",
      "server_timedout",
      "server_connections",
      "server_ejected_at",
      "requests",
      "request_bytes",
      "responses",
      "response_bytes",
      "in_queue",
      "in_queue_bytes",
      "out_queue",
      "out_queue_bytes",
    ]);
    assert.ok(srv.requests >= 1 && srv.responses >= 1);
    assert.ok(`127.0.0.1:${ports[0]}` in doc.secure_in);
    const again = JSON.parse(await exchange(ports[4], "", (s) => s.endsWith("}\n")));
    assert.ok(again.total_connections >= doc.total_connections);
  });
});
