/**
 * keepcache's proxy and nutcracker started side by side on the same pool text (a
 * nutcracker.yml both read as it is), for the scenarios that compare them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keepcacheBin, type Proc, start } from "../../tools/procs.js";

export interface ProxyPorts {
  kc: number;
  kcStats: number;
  nc: number;
  ncStats: number;
}

/** Writes `pool(listen)` for each proxy into `dir` and starts both; resolves once both listen. */
export async function startProxies(
  dir: string,
  pool: (listen: number) => string,
  ports: ProxyPorts,
): Promise<{ kc: Proc; nc: Proc }> {
  writeFileSync(join(dir, "kc.yml"), pool(ports.kc));
  writeFileSync(join(dir, "nc.yml"), pool(ports.nc));
  const kc = await start(
    process.execPath,
    [keepcacheBin(), "run", "-c", join(dir, "kc.yml"), "-s", String(ports.kcStats)],
    { port: ports.kc, env: { ...process.env, KEEPCACHE_LOG_LEVEL: "warn" } },
  );
  const nc = await start("nutcracker", ["-c", join(dir, "nc.yml"), "-s", String(ports.ncStats)], {
    port: ports.nc,
  });
  return { kc, nc };
}
