/**
 * When buffered bytes go to the socket: batched writes, one per socket per batch.
 *
 * Requests to backends (`scheduleFlush`): a connection that buffered bytes registers; one
 * setImmediate (the check phase, right after the poll phase has delivered every readable
 * client's data) flushes them all, so requests from many clients to one backend leave in one
 * write. twemproxy gets the same from epoll batching: req_forward only arms EPOLLOUT and the
 * server conn is written on the next epoll_wait (nc_request.c, nc_core.c core_core).
 *
 * Replies to clients (`scheduleReply`): a backend read completes the replies of many clients;
 * they are written at the end of that read's handler (`flushReplies`), not a phase later, so
 * the load generator (another process, maybe another core) gets them while the proxy goes on
 * with its other ready sockets. It is still one write per client per backend read batch. A
 * reply completed outside a backend read (a local reply, a failure, a timer) is caught by the
 * same setImmediate.
 */
export interface Flushable {
  /** True while registered; maintained by this module. */
  flushQueued: boolean;
  flush(): void;
}

class FlushQueue {
  // Two lists used alternately, with explicit counts: `length = 0` would drop an array's
  // backing store and cost an allocation per batch.
  private queue: (Flushable | undefined)[] = [];
  private n = 0;
  private spare: (Flushable | undefined)[] = [];
  private running = false;

  add(f: Flushable): void {
    if (f.flushQueued) return;
    f.flushQueued = true;
    this.queue[this.n++] = f;
    if (!immediateArmed) {
      immediateArmed = true;
      setImmediate(runAll);
    }
  }

  run(): void {
    // Not re-entered: what a flush queues meanwhile waits for the setImmediate add() armed.
    if (this.n === 0 || this.running) return;
    this.running = true;
    const q = this.queue;
    const n = this.n;
    this.queue = this.spare;
    this.n = 0;
    try {
      for (let i = 0; i < n; i++) {
        const f = q[i] as Flushable;
        q[i] = undefined;
        f.flushQueued = false;
        f.flush();
      }
    } finally {
      this.spare = q;
      this.running = false;
    }
  }
}

const backends = new FlushQueue();
const replies = new FlushQueue();
let immediateArmed = false;

function runAll(): void {
  immediateArmed = false;
  replies.run();
  backends.run();
}

/** A backend connection buffered request bytes: written in this turn's check phase. */
export function scheduleFlush(f: Flushable): void {
  backends.add(f);
}

/** A client connection buffered reply bytes: written by flushReplies() or this turn's check phase. */
export function scheduleReply(f: Flushable): void {
  replies.add(f);
}

/** Writes every buffered client reply now (end of a backend read's handler). */
export function flushReplies(): void {
  replies.run();
}
