/**
 * What a backend server and its connections hand their outcomes to: the pool's data plane
 * (dispatch.ts DataPlane, the only implementation). Declared apart so a server depends on
 * this contract, not on the routing that sends it requests.
 */
import type { BackendError } from "../errors.js";
import type { ReplyFramer } from "./driver.js";
import type { Request } from "./request.js";

export interface ReplySink {
  /** A reply for `req` is framed in `framer`. */
  settle(req: Request, framer: ReplyFramer): void;
  /** `req` could not be served by `server` (a retry avoids it): `err` says why. */
  failRequest(
    req: Request,
    server: object & { readonly label: string },
    err: BackendError,
    retryable: boolean,
  ): void;
}

/**
 * A pool that acts on its backends' replies itself (a Redis Cluster pool: -MOVED/-ASK
 * redirects and reads held through a failover, cluster/control.ts). The data plane hands it
 * every reply and failure first; a pool with one leaves retries to it.
 */
export interface ReplyHook {
  /**
   * Every request keeps a view of the bytes it sent (Request.retryBuf, no copy: backend.ts),
   * not only the retryable ones, so the hook can send them again.
   */
  readonly keepSent: boolean;
  /** True: the hook took the reply (it sent the request again); false: it goes to the client. */
  settle(req: Request, framer: ReplyFramer): boolean;
  /** True: the hook took the failed request (it holds it); false: it fails now, no retry. */
  failed(
    req: Request,
    server: object & { readonly label: string },
    err: BackendError,
    retryable: boolean,
  ): boolean;
}
