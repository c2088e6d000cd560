/** Free TCP ports on loopback for the servers tests and benchmarks start. */
import { readFileSync } from "node:fs";
import net from "node:net";

/**
 * The kernel's ephemeral range (net.ipv4.ip_local_port_range): the source ports of outgoing
 * connections. A port from it is free only until some client connects from it, so a server a
 * test starts on such a port can fail with EADDRINUSE. Test ports come from below it instead.
 */
function ephemeralLow(): number {
  try {
    const lo = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0],
    );
    if (Number.isInteger(lo) && lo > MIN_PORT + 1000) return lo;
  } catch {
    // Not Linux: the default range's start.
  }
  return 32768;
}

const MIN_PORT = 10000;
const HIGH = ephemeralLow();
/** Where the next search starts: random per process, so parallel test files rarely collide. */
let cursor = MIN_PORT + Math.floor(Math.random() * (HIGH - MIN_PORT));

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port on `host` that nothing listens on or connects from now, below the ephemeral range
 * (see above). Its successor is free too and is never handed out next: `keepcache node` and
 * repcached listen for replication on port + 1 by default.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < HIGH - MIN_PORT; i++) {
    const port = cursor;
    cursor += 2 + Math.floor(Math.random() * 8);
    if (cursor + 1 >= HIGH) cursor = MIN_PORT;
    if (port + 1 < HIGH && (await bindable(port, host)) && (await bindable(port + 1, host)))
      return port;
  }
  throw new Error(`no free port on ${host} in ${MIN_PORT}-${HIGH - 1}`);
}

/** Several distinct free ports. */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const out = new Set<number>();
  for (let i = 0; out.size < n && i < n * 20; i++) out.add(await freePort(host));
  return [...out];
}

/** Resolves once host:port accepts a TCP connection; rejects after timeoutMs. */
export async function waitForPort(
  port: number,
  host = "127.0.0.1",
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`port ${host}:${port} did not open in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
