/** The admin HTTP server (issue 7) and logging. */
import { z } from "zod";
import { listenSchema, text } from "./common.js";

export const adminSchema = z.strictObject({
  listen: listenSchema,
  /** Bearer token for mutating API calls; read-only pages stay open when unset. */
  token: text.optional(),
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
