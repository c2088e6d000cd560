/** Load generators for the TCP benchmark; each runs for `ms` and returns a rate. */
import net from "node:net";

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    s.setNoDelay(true);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** MB/s read from a streaming source through `port`, over `conns` connections. */
export async function bulk(port: number, ms: number, conns = 4): Promise<number> {
  const socks = await Promise.all(Array.from({ length: conns }, () => connect(port)));
  let bytes = 0;
  let counting = false;
  for (const s of socks) s.on("data", (d: Buffer) => counting && (bytes += d.length));
  await new Promise((r) => setTimeout(r, 300)); // warm up
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const el = (performance.now() - t0) / 1000;
  counting = false;
  for (const s of socks) s.destroy();
  return bytes / el / 1e6;
}

/** Round trips/s of 64-byte messages, `conns` connections each with one message in flight. */
export async function pingPong(port: number, ms: number, conns = 50): Promise<number> {
  const msg = Buffer.alloc(64, 0x61);
  const socks = await Promise.all(Array.from({ length: conns }, () => connect(port)));
  let ops = 0;
  const end = performance.now() + ms;
  await Promise.all(
    socks.map(
      (s) =>
        new Promise<void>((resolve) => {
          let got = 0;
          s.on("data", (d: Buffer) => {
            got += d.length;
            while (got >= 64) {
              got -= 64;
              ops++;
              if (performance.now() >= end) {
                s.destroy();
                return resolve();
              }
              s.write(msg);
            }
          });
          s.on("error", () => resolve());
          s.write(msg);
        }),
    ),
  );
  return ops / (ms / 1000);
}

/** New connections/s: `par` loops of connect, 1-byte echo, close. */
export async function newConns(port: number, ms: number, par = 20): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => s.write("x"));
      s.once("data", () => {
        n++;
        s.destroy();
        resolve();
      });
      s.once("error", reject);
    });
  await Promise.all(
    Array.from({ length: par }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  return n / (ms / 1000);
}
