/**
 * Logging: pino JSON lines by default (for machines), a short readable form when stderr is a
 * terminal (for people). One root logger; subsystems take a child with their own `component`.
 */
import { type Logger, pino } from "pino";

export type { Logger };

function pretty(): pino.DestinationStream {
  // A tiny human format: "12:00:01 INFO  node: listening port=11211". No extra dependency.
  const names: Record<number, string> = {
    10: "TRACE",
    20: "DEBUG",
    30: "INFO ",
    40: "WARN ",
    50: "ERROR",
    60: "FATAL",
  };
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const { level, time, msg, component, pid: _p, hostname: _h, ...rest } = o;
        const t = new Date(Number(time)).toTimeString().slice(0, 8);
        const extra = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" ");
        process.stderr.write(
          `${t} ${names[Number(level)] ?? level} ${component ? `${component}: ` : ""}${msg ?? ""}${extra ? ` ${extra}` : ""}\n`,
        );
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

let root: Logger | undefined;

/** The process-wide logger. level: KEEPCACHE_LOG_LEVEL or "info"; format: json | pretty | auto. */
export function logger(opts?: { level?: string; format?: "json" | "pretty" | "auto" }): Logger {
  if (root && !opts) return root;
  const level = opts?.level ?? process.env.KEEPCACHE_LOG_LEVEL ?? "info";
  const format = opts?.format ?? (process.env.KEEPCACHE_LOG_FORMAT as "json" | "pretty") ?? "auto";
  const usePretty = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  root = pino(
    { level, base: { pid: process.pid } },
    usePretty ? pretty() : pino.destination({ dest: 2, sync: true }),
  );
  return root;
}

export function child(component: string): Logger {
  return logger().child({ component });
}
