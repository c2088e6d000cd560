/**
 * What one entry of a pool's server list, and of its routing table, routes to: one backend
 * server (server.ts) or a replica set (replicaset/set.ts). Both take a request with send(),
 * name the server a dedicated connection goes to, list the backend servers that carry their
 * connections (`backends`) and carry the operator's state; code that needs the set itself
 * narrows on `kind`.
 */
import type { ReplicaSet } from "./replicaset/set.js";
import type { BackendServer } from "./server.js";

export type PoolTarget = BackendServer | ReplicaSet;
