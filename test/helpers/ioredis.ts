/** ioredis clients for e2e tests: lazy, one retry, errors left to the awaited commands. */
import { Redis, type RedisOptions } from "ioredis";

/** Clients made by ioredis(), for the suite's after() to disconnect. */
export const ioredisClients: Redis[] = [];

export function ioredis(port: number, opts: RedisOptions = {}): Redis {
  const c = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    ...opts,
  });
  c.on("error", () => {});
  ioredisClients.push(c);
  return c;
}
