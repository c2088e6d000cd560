/**
 * `npm run bench -- <scenario...>`: runs benchmark scenarios, each against its real anchor
 * in the same run, and prints a table per scenario (also written to bench/results/).
 * With no scenario named, runs them all.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, stopAll } from "../tools/procs.js";
import { printTable, type Row } from "./lib/table.js";

interface Scenario {
  title: string;
  anchor: string;
  run: () => Promise<Row[]>;
}

const scenarios: Record<string, () => Promise<Scenario>> = {
  node: async () => ({
    title: "keepcache node vs memcached 1.6",
    anchor: "memcached",
    run: (await import("./node/index.js")).run,
  }),
  proxy: async () => ({
    title: "keepcache proxy vs nutcracker 0.5 vs direct (memcaslap; redis-benchmark -c 50)",
    anchor: "nutcracker",
    run: (await import("./proxy/index.js")).run,
  }),
  bigvalues: async () => ({
    title:
      "large Redis values through the proxy: peak RSS (8 clients x 64 MB SET+GET; 8 x LRANGE of 4 x 16 MB; 4 x LRANGE of 500,000 x 100 B)",
    anchor: "nutcracker",
    run: (await import("./bigvalues/index.js")).run,
  }),
  multiget: async () => ({
    title:
      "one 60,000-key get, and another client meanwhile (node vs memcached; proxy vs nutcracker)",
    anchor: "memcached / nutcracker",
    run: (await import("./multiget/index.js")).run,
  }),
  failover: async () => ({
    title: "replica-set failover: kill -9 of the Redis master, 10 kills per mode",
    anchor: "Sentinel (default 30 s)",
    run: (await import("./failover/index.js")).run,
  }),
  replication: async () => ({
    title: "keepcache node replication (2-node mesh)",
    anchor: "unreplicated node",
    run: (await import("./replication/index.js")).run,
  }),
  vrrp: async () => ({
    title: "VRRP takeover after kill -9 of the master (network namespaces; needs root)",
    anchor: "keepalived",
    run: (await import("./vrrp/index.js")).run,
  }),
  cluster: async () => ({
    title: "Redis Cluster pool vs ioredis's Cluster client, direct (3 masters + 3 replicas)",
    anchor: "ioredis Cluster",
    run: (await import("./cluster/index.js")).run,
  }),
  tcp: async () => ({
    title: "keepcache TCP balancer vs haproxy (tcp mode)",
    anchor: "haproxy",
    run: (await import("./tcp/index.js")).run,
  }),
};

async function main() {
  const asked = process.argv.slice(2);
  const names = asked.length ? asked : Object.keys(scenarios);
  for (const n of names) {
    if (!scenarios[n]) {
      console.error(`bench: unknown scenario '${n}' (known: ${Object.keys(scenarios).join(", ")})`);
      process.exitCode = 2;
      return;
    }
  }
  const outDir = join(repoRoot(), "bench", "results");
  mkdirSync(outDir, { recursive: true });
  for (const n of names) {
    const s = await scenarios[n]();
    try {
      const rows = await s.run();
      const text = printTable(s.title, s.anchor, rows);
      writeFileSync(join(outDir, `${n}.md`), `${text}\n_${new Date().toISOString()}_\n`);
    } finally {
      await stopAll();
    }
  }
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exitCode = 1;
});
