/** Starting the real `keepcache` CLI (compiled dist/) as a child process for e2e tests. */
import { freePort } from "../../tools/ports.js";
import { keepcacheBin, type Proc, start } from "../../tools/procs.js";

export interface NodeProc extends Proc {
  port: number;
}

/** `keepcache node -p <free port> ...extra`, resolved once it accepts connections. */
export async function startNode(extra: string[] = []): Promise<NodeProc> {
  const port = await freePort();
  const proc = await start(
    process.execPath,
    [keepcacheBin(), "node", "-p", String(port), ...extra],
    {
      port,
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
    },
  );
  return Object.assign(proc, { port });
}
