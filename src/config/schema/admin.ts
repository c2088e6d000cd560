/** The admin HTTP server and logging. */
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
  format: z.enum(["json", "pretty"]).default("json"),
  file: z.string().optional(),
});
export type LogConfig = z.output<typeof logSchema>;
