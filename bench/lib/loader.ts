/**
 * Fills a memcached-protocol server with N items as fast as the server accepts them:
 * pipelined `set ... noreply` in batches, then a `version` round trip to know all were read.
 */
import net from "node:net";

export async function loadItems(
  port: number,
  count: number,
  keyBytes = 20,
  valueBytes = 100,
  host = "127.0.0.1",
): Promise<void> {
  const sock = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  const value = Buffer.alloc(valueBytes, 0x61);
  const batch = 2000;
  for (let i = 0; i < count; i += batch) {
    const parts: Buffer[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const key = `k${String(j).padStart(keyBytes - 1, "0")}`;
      parts.push(
        Buffer.from(`set ${key} 0 0 ${valueBytes} noreply\r\n`),
        value,
        Buffer.from("\r\n"),
      );
    }
    if (!sock.write(Buffer.concat(parts))) {
      await new Promise((r) => sock.once("drain", r));
    }
  }
  await new Promise<void>((resolve, reject) => {
    let got = "";
    sock.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("VERSION ")) resolve();
      else if (got.includes("ERROR")) reject(new Error(`load failed: ${got.slice(0, 200)}`));
    });
    sock.write("version\r\n");
  });
  sock.destroy();
}
