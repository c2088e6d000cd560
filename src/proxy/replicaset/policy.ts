/**
 * The settings of one replica set as the data plane uses them (from config ReplicaSetConfig).
 */
import type { ReplicaSetConfig } from "../../config/index.js";

export type ReadPolicy = ReplicaSetConfig["read"];
export type WritePolicy = ReplicaSetConfig["write"];

/** Members are limited so a set of tried members fits one 31-bit mask. */
export const MAX_MEMBERS = 30;

/**
 * How many acknowledgements a memcached write needs (mcrouter AllSyncRoute / AllMajorityRoute /
 * AllInitialRoute): `sent` members got it, `size` is the configured member count.
 */
export function requiredAcks(policy: WritePolicy, sent: number, size: number): number {
  switch (policy) {
    case "all":
      return sent;
    case "majority":
      return Math.floor(size / 2) + 1;
    case "one":
      return 1;
  }
}
