/**
 * One write per socket per event-loop turn. Connections that buffered bytes register here; a
 * single setImmediate (after the poll phase has delivered every readable socket's data) flushes
 * them all, so requests from many clients to one backend, and replies from many backends to
 * one client, each leave in one write (twemproxy gets the same effect from epoll batching).
 */
export interface Flushable {
  /** True while registered; maintained by this module. */
  flushQueued: boolean;
  flush(): void;
}

let queue: Flushable[] = [];
let scheduled = false;

function run(): void {
  scheduled = false;
  // Flushing may queue more (a client flush never does, but be safe): take a fresh list.
  const q = queue;
  queue = [];
  for (let i = 0; i < q.length; i++) {
    const f = q[i];
    f.flushQueued = false;
    f.flush();
  }
}

export function scheduleFlush(f: Flushable): void {
  if (f.flushQueued) return;
  f.flushQueued = true;
  queue.push(f);
  if (!scheduled) {
    scheduled = true;
    setImmediate(run);
  }
}
