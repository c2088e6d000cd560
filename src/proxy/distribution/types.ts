import type { HashFn } from "../hash/types.js";

/** One slot of a pool as a distribution sees it. */
export interface DistributionServer {
  /**
   * What twemproxy hashes for the server (ServerConfig.key / ReplicaSetConfig.key): the
   * explicit name, else "host" for port 11211, else "host:port". Also the modula/random order.
   */
  name: string;
  /** >= 1 (nc_conf.c rejects weight 0). */
  weight: number;
  /**
   * false = ejected (auto_eject_hosts and retry time not reached): left out of the continuum,
   * so its keys move to the others, as ketama_update/modula_update/random_update do.
   * Default true.
   */
  live?: boolean;
}

/** A built continuum: maps a key to an index into the `servers` array it was built from. */
export interface Picker {
  /** Index into the build input, or -1 when no server is live. */
  pick(key: Buffer, start: number, end: number): number;
  /** Number of live servers in this continuum. */
  readonly live: number;
}

/**
 * A key distribution (nc_hashkit.h DIST_CODEC). `build` is cheap enough to call on every
 * ejection or reinstatement; the result is immutable.
 */
export interface Distribution {
  readonly name: "ketama" | "modula" | "random";
  build(servers: readonly DistributionServer[], hash: HashFn): Picker;
}
