/** The protocol driver for a pool: memcache, or (with `redis: true`) the Redis driver. */
import type { PoolConfig } from "../config/index.js";
import type { ProtocolDriver } from "./driver.js";
import { memcacheDriver } from "./memcache/index.js";

let redis: ProtocolDriver | undefined;

export async function driverFor(pool: PoolConfig): Promise<ProtocolDriver> {
  if (!pool.redis) return memcacheDriver;
  if (redis === undefined) {
    // Loaded on demand (src/proxy/redis/index.ts exports `redisDriver`).
    const path = "./redis/index.js";
    const mod = (await import(path)) as { redisDriver: ProtocolDriver };
    redis = mod.redisDriver;
  }
  return redis;
}
