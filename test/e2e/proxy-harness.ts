/**
 * In-process proxy pools for the proxy e2e tests: the real ProxyService (listeners, backend
 * connections, prober) in the test process, in front of real memcached/redis processes.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { parseConfig } from "../../src/config/index.js";
import { Leadership } from "../../src/failover/leader.js";
import { setControllers } from "../../src/failover/set-control.js";
import { logger } from "../../src/log.js";
import type { ProxyPool } from "../../src/proxy/pool.js";
import { ProxyService } from "../../src/proxy/proxy.js";
import type { BackendServer } from "../../src/proxy/server.js";

export interface RunningProxy {
  proxy: ProxyService;
  port(pool?: string): number;
  stop(): Promise<void>;
}

/** Starts every pool of a YAML config text (listen ports must be free ones). */
export async function startProxy(yaml: string): Promise<RunningProxy> {
  const cfg = parseConfig(yaml, "test.yml");
  const proxy = new ProxyService(
    logger({ level: "silent" }).child({ component: "proxy" }),
    setControllers(new Leadership()),
  );
  await proxy.start(cfg.pools);
  return {
    proxy,
    port(pool = cfg.pools[0].name) {
      const a = proxy.addresses.get(pool) as net.AddressInfo;
      return a.port;
    },
    stop: () => proxy.stop(),
  };
}

/** Reads until `done(text)` or the deadline; returns the text. */
export async function exchange(
  port: number,
  send: string | Buffer,
  done: (s: string) => boolean,
  timeoutMs = 3000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => s.write(send));
    let got = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(got.slice(0, 500))}`));
    }, timeoutMs);
    s.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (done(got)) {
        clearTimeout(t);
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/** The i-th entry of a pool's server list, which the test configured as a plain server. */
export function serverOf(pool: ProxyPool, i: number): BackendServer {
  const s = pool.servers[i];
  assert.ok(s?.kind === "server", `entry ${i} of pool ${pool.name} is not a server`);
  return s;
}
