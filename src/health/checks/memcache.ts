/** memcached liveness: `version\r\n` → `VERSION x` (protocol.txt, "Other commands"). */
import type { CheckFn } from "../types.js";
import { CheckConnection, lineFrame } from "./conn.js";
import { fail, pass, stopwatch } from "./result.js";

export type MemcacheCheckOptions = Record<string, never>;

export const memcacheCheck: CheckFn<MemcacheCheckOptions> = async (target, _o, signal) => {
  const elapsed = stopwatch();
  let c: CheckConnection | undefined;
  try {
    c = await CheckConnection.open(target, signal);
    c.write("version\r\n");
    const line = (await c.read(lineFrame)).toString("latin1").trimEnd();
    if (line.startsWith("VERSION ")) return pass(elapsed, line);
    return fail(elapsed, `unexpected reply: ${line.slice(0, 80)}`);
  } catch (e) {
    return fail(elapsed, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    c?.close();
  }
};
