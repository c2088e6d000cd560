/**
 * What the long-running subcommands (`run`, `vrrp`) share around reloads and crashes: how a
 * refused SIGHUP reload is reported, and releasing VIPs before an uncaught error ends the
 * process.
 */
import { ConfigErrors } from "../config/load.js";
import { KeepcacheError } from "../errors.js";
import type { Logger } from "../log.js";

/** Logs why a SIGHUP reload was refused (every config error), and that the old config stays. */
export function logReloadRefused(log: Logger, file: string, err: unknown): void {
  if (err instanceof ConfigErrors) for (const e of err.errors) log.error({ file }, e.message);
  else if (err instanceof KeepcacheError) log.error({ file, code: err.code }, err.message);
  else log.error({ err, file }, "reload failed");
  log.error({ file }, "reload rejected: the running config stays");
}

/**
 * A process that holds VIPs must not die holding them: on an uncaught exception or unhandled
 * rejection, `cleanup` (VRRP's stop: priority-0 advert, VIPs removed) runs, bounded by 3 s,
 * and the process exits 1. Without this Node would exit at once and leave the VIPs on the
 * interface, and the peers would wait Master_Down_Interval (RFC 5798 §6.4.2) to take over.
 */
export function leaveCleanlyOnCrash(log: Logger, cleanup: () => Promise<void> | undefined): void {
  let crashing = false;
  const crash = (err: unknown) => {
    log.fatal({ err }, "uncaught error: releasing the VIPs, then exiting");
    if (crashing) return;
    crashing = true;
    const exit = () => process.exit(1);
    setTimeout(exit, 3000).unref();
    Promise.resolve(cleanup()).then(exit, exit);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}
