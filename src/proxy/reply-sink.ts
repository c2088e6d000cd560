/**
 * What a backend server and its connections hand their outcomes to: the pool's data plane
 * (dispatch.ts DataPlane, the only implementation). Declared apart so a server depends on
 * this contract, not on the routing that sends it requests.
 */
import type { ReplyFramer } from "./driver.js";
import type { Request } from "./request.js";

export interface ReplySink {
  /** A reply for `req` is framed in `framer`. */
  settle(req: Request, framer: ReplyFramer): void;
  /** `req` could not be served by `server` (named in the error; a retry avoids it). */
  failRequest(
    req: Request,
    server: object & { readonly label: string },
    reason: string,
    retryable: boolean,
  ): void;
}
