/**
 * The Sentinel-compatible endpoint (src/sentinel/): a listener that answers the Sentinel
 * commands clients use to find a master (sentinel-clients.md), from the replica sets' views.
 */
import { z } from "zod";
import { hostPortSchema, posInt } from "./common.js";

export const sentinelSchema = z.strictObject({
  /** Where clients connect, as they would to a redis-sentinel (default port 26379). */
  listen: hostPortSchema,
  /** Most client connections at once (redis-sentinel's maxclients default is 10000). */
  max_clients: posInt.max(100_000).default(10_000),
  /**
   * Bytes of replies a client may leave unread before it is disconnected, like redis's
   * `client-output-buffer-limit pubsub` hard limit (32 MB by default there; replies here are small).
   */
  output_limit: posInt.min(1024).default(1024 * 1024),
});
export type SentinelConfig = z.output<typeof sentinelSchema>;
