/**
 * The load of `npm run bench -- cluster`, run as its own process (so the proxy and the load do
 * not share an event loop): N ioredis clients, each keeping `depth` commands in flight (SET and
 * GET alternately, random keys over 10,000, so over every slot), for a fixed time.
 *   node load.js cluster|proxy PORT CLIENTS DEPTH MS [PROTOCOL]
 * `cluster`: ioredis's own Cluster client against the nodes (it learns the slot map and
 * connects to each master); `proxy`: plain ioredis clients against the keepcache pool. Both
 * with enableAutoPipelining, so the commands in flight leave in batches either way, and
 * RESP2 unless PROTOCOL is 3 (ioredis 6's default). Prints
 * {"ops": N, "errors": N, "ms": N} on stdout.
 */
import { Cluster, Redis } from "ioredis";

const [mode, portText, clientsText, depthText, msText, protoText] = process.argv.slice(2);
const protocol = Number(protoText ?? 2) as 2 | 3;
const port = Number(portText);
const clients = Number(clientsText);
const depth = Number(depthText);
const ms = Number(msText);
const value = "v".repeat(32);

type Client = Redis | Cluster;

function connect(): Client {
  if (mode === "cluster")
    return new Cluster([{ host: "127.0.0.1", port }], {
      enableAutoPipelining: true,
      // 50 clients fetching the slot map at once on a busy machine: give them time.
      slotsRefreshTimeout: 10_000,
      redisOptions: { maxRetriesPerRequest: 1, protocol },
    });
  return new Redis({
    host: "127.0.0.1",
    port,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    protocol,
  });
}

async function main(): Promise<void> {
  // Every client ready (the cluster clients with their slot maps), one after the other.
  const cs: Client[] = [];
  for (let i = 0; i < clients; i++) {
    const c = connect();
    c.on("error", () => {});
    await c.set("warm", value);
    cs.push(c);
  }
  let ops = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loop = async (c: Client) => {
    let i = 0;
    while (!stop) {
      const batch: Promise<unknown>[] = [];
      for (let d = 0; d < depth; d++, i++) {
        const key = `key:${(Math.random() * 10_000) | 0}`;
        batch.push(i % 2 === 0 ? c.set(key, value) : c.get(key));
      }
      const rs = await Promise.allSettled(batch);
      if (measuring)
        for (const r of rs) {
          if (r.status === "fulfilled") ops++;
          else errors++;
        }
    }
  };
  const loops = cs.map(loop);
  // A short warm-up (connections, JIT), then the measured window.
  await new Promise((r) => setTimeout(r, 500));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  measuring = false;
  const took = performance.now() - t0;
  stop = true;
  await Promise.all(loops);
  for (const c of cs) c.disconnect();
  process.stdout.write(`${JSON.stringify({ ops, errors, ms: took })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
