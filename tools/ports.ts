/** Free TCP ports on loopback for the servers tests and benchmarks start. */
import net from "node:net";

/** Asks the kernel for a free port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new Error("no port"));
      });
    });
  });
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
