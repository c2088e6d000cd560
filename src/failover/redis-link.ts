/**
 * Control-plane connections to Redis servers and Sentinels (ROLE, INFO, REPLICAOF, SENTINEL,
 * SUBSCRIBE), through ioredis. Configured to fail fast rather than queue: no offline queue, no
 * per-command retries, a short connect and command timeout, and a steady 100 ms reconnect, so
 * a dead server costs one rejected promise per poll and a returning one is seen within 100 ms.
 * The ready check is off so a -LOADING server still answers ROLE.
 */
import { Redis } from "ioredis";

export interface LinkOptions {
  password?: string;
  timeoutMs?: number;
}

export class RedisLink {
  readonly redis: Redis;

  constructor(
    readonly host: string,
    readonly port: number,
    opts: LinkOptions = {},
  ) {
    const t = opts.timeoutMs ?? 500;
    this.redis = new Redis({
      host,
      port,
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: t,
      commandTimeout: t,
      retryStrategy: () => 100,
      lazyConnect: false,
    });
    // Errors surface as rejected commands; the connection's own error events are expected
    // while a server is down.
    this.redis.on("error", () => {});
  }

  get label(): string {
    return `${this.host}:${this.port}`;
  }

  call(command: string, ...args: (string | number)[]): Promise<unknown> {
    return this.redis.call(command, ...args);
  }

  close(): void {
    this.redis.disconnect();
  }
}
