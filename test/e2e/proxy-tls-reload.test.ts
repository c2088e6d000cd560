/**
 * Certificate rotation on a TLS pool: `keepcache run` serves a pool with
 * `tls:`, the cert/key files are overwritten in place with a second self-signed pair and the
 * process gets SIGHUP. The open TLS connection keeps working; new connections present the new
 * certificate (compared by fingerprint); bad files are refused and the last good one stays.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { freePorts } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start, startMemcached, stopAll } from "../../tools/procs.js";
import { selfSignedCert } from "../helpers/certs.js";

/** A TLS client that reads line replies; the server's certificate is checked by fingerprint. */
class TlsLineClient {
  private got = "";
  closed = false;
  private constructor(readonly sock: tls.TLSSocket) {
    sock.on("data", (d: Buffer) => {
      this.got += d.toString("latin1");
    });
    sock.on("close", () => {
      this.closed = true;
    });
    sock.on("error", () => {});
  }
  static connect(port: number): Promise<TlsLineClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () =>
        resolve(new TlsLineClient(s)),
      );
      s.once("error", reject);
    });
  }
  get fingerprint(): string {
    return this.sock.getPeerCertificate().fingerprint256;
  }
  async call(send: string, end: string): Promise<string> {
    this.got = "";
    this.sock.write(send);
    const deadline = Date.now() + 3000;
    while (!this.got.endsWith(end)) {
      if (this.closed || Date.now() > deadline) throw new Error(`no reply; got ${this.got}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.got;
  }
  close(): void {
    this.sock.destroy();
  }
}

async function fingerprintOf(port: number): Promise<string> {
  const c = await TlsLineClient.connect(port);
  const fp = c.fingerprint;
  c.close();
  return fp;
}

describe("proxy TLS certificate reload", () => {
  let dir: string;
  let proc: Proc;
  let listen: number;
  let a: { cert: string; key: string; fp: string };
  let b: { cert: string; key: string; fp: string };
  const live = () => ({ cert: join(dir, "live.pem"), key: join(dir, "live.key") });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "kc-tls-reload-"));
    a = selfSignedCert(dir, "first");
    b = selfSignedCert(dir, "second");
    assert.notEqual(a.fp, b.fp);
    copyFileSync(a.cert, live().cert);
    copyFileSync(a.key, live().key);
    const [l, stats, m] = await freePorts(3);
    listen = l;
    await startMemcached(m);
    const file = join(dir, "tls.yml");
    writeFileSync(
      file,
      `secure:\n  listen: 127.0.0.1:${listen}\n  tls:\n    cert: ${live().cert}\n    key: ${live().key}\n  servers:\n    - 127.0.0.1:${m}:1\n`,
    );
    proc = await start(process.execPath, [keepcacheBin(), "run", "-c", file, "-s", String(stats)], {
      port: listen,
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
    });
  });
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test("rotated files + SIGHUP: the open connection lives on, new ones see the new cert", async () => {
    const old = await TlsLineClient.connect(listen);
    assert.equal(old.fingerprint, a.fp);
    assert.equal(await old.call("set rot 0 0 2\r\nv1\r\n", "\r\n"), "STORED\r\n");

    // In place, as certbot / cert-manager do: same paths, new contents.
    copyFileSync(b.key, live().key);
    copyFileSync(b.cert, live().cert);
    proc.child.kill("SIGHUP");
    await until(async () => (await fingerprintOf(listen)) === b.fp, "the new certificate");
    assert.match(proc.output(), /pool reconfigured/);
    assert.doesNotMatch(proc.output(), /pool stopped by reload/);

    assert.equal(old.closed, false);
    assert.equal(old.fingerprint, a.fp, "the open session keeps its certificate");
    assert.equal(await old.call("get rot\r\n", "END\r\n"), "VALUE rot 0 2\r\nv1\r\nEND\r\n");
    const fresh = await TlsLineClient.connect(listen);
    assert.equal(await fresh.call("get rot\r\n", "END\r\n"), "VALUE rot 0 2\r\nv1\r\nEND\r\n");
    fresh.close();

    // A broken certificate file: the reload fails before any change; the last good one stays.
    writeFileSync(
      live().cert,
      "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n",
    );
    proc.child.kill("SIGHUP");
    await until(async () => /reload failed/.test(proc.output()), "the failed reload");
    assert.equal(await fingerprintOf(listen), b.fp);
    assert.equal(await old.call("get rot\r\n", "END\r\n"), "VALUE rot 0 2\r\nv1\r\nEND\r\n");
    old.close();
    await proc.stop("SIGTERM");
    assert.equal(proc.child.exitCode, 0, proc.output());
  });
});
