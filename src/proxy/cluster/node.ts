/**
 * A cluster master as a pool server: the pool's table routes a slot to its master, and the
 * master hands read-only requests to one of its replicas when the pool says
 * `read: replica | prefer-replica` (cluster-spec.md "Scaling reads using replica nodes": the
 * replica connections carry READONLY, sent by the pool's handshake). A client's reads go to one
 * replica (by client id), so its requests to that replica stay ordered.
 */
import { Request, type Slot } from "../request.js";
import { BackendServer } from "../server.js";

export type ClusterRead = "master" | "replica" | "prefer-replica";

export class ClusterNode extends BackendServer {
  /** This master's replicas (servers of their own, outside the pool's table). */
  replicas: BackendServer[] = [];
  read: ClusterRead = "master";

  override send(
    req: Request,
    clientId: number,
    channel: number,
    buf: Buffer,
    start: number,
    end: number,
    keepForRetry: boolean,
  ): boolean {
    if (req.readOnly && this.read !== "master" && this.replicas.length > 0) {
      const r = this.replicas[clientId % this.replicas.length];
      // prefer-replica: a replica that is failing leaves its reads to the master (replicas are
      // not pool entries: no health check, the data path's failures are the evidence).
      if (this.read === "replica" || r.failures === 0)
        return r.send(req, clientId, channel, buf, start, end, keepForRetry);
    }
    return super.send(req, clientId, channel, buf, start, end, keepForRetry);
  }
}

/** A request re-sent after a redirect: how many it has followed (bounded, control.ts). */
export class Redirected extends Request {
  constructor(
    slot: Slot,
    part: number,
    expect: number,
    silent: boolean,
    readonly hops: number,
  ) {
    super(slot, part, expect, silent);
  }
}
