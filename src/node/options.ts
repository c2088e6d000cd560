/** Settings of one cache node, as `keepcache node` flags produce them (memcached's names). */
import type { ReplicationOptions } from "./replication/options.js";

export interface NodeOptions {
  port: number;
  host: string;
  memoryLimitMb: number;
  maxItemSize: number;
  connLimit: number;
  verbosity: number;
  /** Per-connection cap on queued reply bytes before the node stops reading that client. */
  outputLimitBytes: number;
  /** Set when the node replicates (-x peers or --replication-port). */
  replication?: ReplicationOptions;
}

export const nodeDefaults: NodeOptions = {
  port: 11211,
  // Unlike memcached (all interfaces), listen on loopback unless told otherwise: a cache with
  // no authentication should not be reachable from the network by accident.
  host: "127.0.0.1",
  memoryLimitMb: 64,
  maxItemSize: 1024 * 1024,
  connLimit: 1024,
  verbosity: 0,
  outputLimitBytes: 4 * 1024 * 1024,
};
