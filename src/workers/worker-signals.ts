/**
 * Signals in a forked worker process (proxy and TCP workers). SIGUSR1 would open the Node
 * inspector (an unauthenticated debugger port) without a handler: the primary writes the
 * state dump, so a worker only says where to look. SIGHUP, sent by the primary after it
 * reopened its log file (logrotate), reopens the worker's.
 */
import { child, reopenLog } from "../log.js";

export function installWorkerSignals(): void {
  process.on("SIGUSR1", () => {
    child("worker").info(
      { primary: process.ppid },
      "SIGUSR1: the state dump is written by the primary process",
    );
  });
  process.on("SIGHUP", () => reopenLog());
}
