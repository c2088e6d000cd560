/** memcached liveness: `version\r\n` → `VERSION x` (protocol.txt, "Other commands"). */
import type { CheckFn } from "../types.js";
import { lineFrame } from "./conn.js";
import { CheckLink } from "./link.js";
import { fail, pass, stopwatch } from "./result.js";

export interface MemcacheCheckOptions {
  /** The server's kept connection (link.ts); without one the check connects and closes. */
  link?: CheckLink;
}

export const memcacheCheck: CheckFn<MemcacheCheckOptions> = async (target, o, signal) => {
  const elapsed = stopwatch();
  const link = o.link ?? new CheckLink(target);
  try {
    const line = await link.use(signal, async (c) => {
      c.write("version\r\n");
      return (await c.read(lineFrame, signal)).toString("latin1").trimEnd();
    });
    if (line.startsWith("VERSION ")) return pass(elapsed, line);
    link.reset();
    return fail(elapsed, `unexpected reply: ${line.slice(0, 80)}`);
  } catch (e) {
    return fail(elapsed, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    if (o.link === undefined) link.close();
  }
};
