/** The admin HTTP server and logging. */
import { z } from "zod";
import { listenSchema, text } from "./common.js";

/** Shortest admin token accepted, in characters (admin/listen.ts checks the env's too). */
export const MIN_TOKEN_LENGTH = 16;

/** A token: text, long enough not to be guessed ('openssl rand -hex 16' makes one). */
const secret = text.refine((t) => t.length >= MIN_TOKEN_LENGTH, {
  error: `must be at least ${MIN_TOKEN_LENGTH} characters ('openssl rand -hex 16' makes one)`,
});

export const adminSchema = z.strictObject({
  listen: listenSchema,
  /** Bearer token for every request but /healthz and /readyz (admin/auth.ts). */
  token: secret.optional(),
  /** Accepted on /metrics only, for Prometheus' scrape config. */
  metrics_token: secret.optional(),
});
export type AdminConfig = z.output<typeof adminSchema>;

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default("info"),
  /** Unset: pretty when the output is a terminal, else json (src/log.ts). */
  format: z.enum(["json", "pretty"]).optional(),
  /** Append here instead of stderr; reopened on SIGHUP (logrotate). */
  file: text.optional(),
});
export type LogConfig = z.output<typeof logSchema>;
