/**
 * What a backend server and its connections hand their outcomes to: the pool's data plane
 * (dispatch.ts DataPlane, the only implementation). Declared apart so a server depends on
 * this contract, not on the routing that sends it requests.
 */
import type { BackendError } from "../errors.js";
import type { ReplyFramer } from "./driver.js";
import type { Request } from "./request.js";

/**
 * A server or replica set as an outcome names it: its address for messages, its identity for
 * the retry that must avoid it (server.ts and target.ts are not imported: they depend on this).
 */
export type ServerRef = object & { readonly label: string };

/** The dedicated connection (dedicated.ts Dedicated) a reply came on, as a hook sees it. */
export interface ReplyVia {
  /** Leased for this one request, with no other server state (a redirect may move it). */
  readonly single: boolean;
  /** Its server's address. */
  readonly label: string;
  /**
   * Sends `req` (bytes `bytes`) again on a dedicated connection of `target`, a PoolTarget
   * (target.ts, not imported here: it depends on this file) at table index `idx`, where the
   * client's lease moves; returns why it could not, or undefined.
   */
  again(req: Request, target: ServerRef, idx: number, bytes: Buffer): BackendError | undefined;
}

export interface ReplySink {
  /** A reply for `req` is framed in `framer` (`via`: on a dedicated connection). */
  settle(req: Request, framer: ReplyFramer, via?: ReplyVia): void;
  /** `req` could not be served by `server` (a retry avoids it): `err` says why. */
  failRequest(req: Request, server: ServerRef, err: BackendError, retryable: boolean): void;
}

/**
 * A pool that acts on its backends' replies itself (a Redis Cluster pool: -MOVED/-ASK
 * redirects and reads held through a failover, cluster/replies.ts). The data plane hands it
 * every reply and failure first; a pool with one leaves retries to it.
 */
export interface ReplyHook {
  /**
   * Every request keeps a view of the bytes it sent (Request.retryBuf, no copy: backend.ts),
   * not only the retryable ones, so the hook can send them again.
   */
  readonly keepSent: boolean;
  /**
   * True: the hook took the reply (it sent the request again, or answered it); false: it goes
   * to the client. `via`: the reply came on a dedicated connection.
   */
  settle(req: Request, framer: ReplyFramer, via?: ReplyVia): boolean;
  /** True: the hook took the failed request (it holds it); false: it fails now, no retry. */
  failed(req: Request, server: ServerRef, err: BackendError, retryable: boolean): boolean;
}
