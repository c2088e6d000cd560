/**
 * keepalived HTTP_GET / SSL_GET: GET a path, accept configured status codes (default any 2xx,
 * as keepalived does when no status_code is given), and optionally compare the MD5 hex digest of
 * the body (keepalived.conf(5), "digest"). TLS certificates are not verified, like SSL_GET.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { formatHostPort } from "../../config/schema/common.js";
import type { CheckFn } from "../types.js";
import { abortDetail, fail, pass, stopwatch } from "./result.js";

export interface HttpCheckOptions {
  tls?: boolean;
  path?: string;
  /** Host header (keepalived `virtualhost`). */
  host?: string;
  status?: number[];
  /** MD5 hex of the expected body. */
  digest?: string;
}

/** Bodies are hashed as they stream; past this size the check fails rather than hash forever. */
const MAX_BODY = 16 * 1024 * 1024;

export const httpCheck: CheckFn<HttpCheckOptions> = (target, o, signal) => {
  const elapsed = stopwatch();
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      resolve(ok ? pass(elapsed, detail) : fail(elapsed, detail));
    };
    if (signal.aborted) return done(false, abortDetail(signal));
    const mod = o.tls ? https : http;
    const req = mod.request({
      host: target.host,
      port: target.port,
      method: "GET",
      path: o.path ?? "/",
      headers: { host: o.host ?? formatHostPort(target.host, target.port), connection: "close" },
      agent: false,
      rejectUnauthorized: false,
      signal,
    });
    req.on("error", (e: NodeJS.ErrnoException) =>
      done(false, signal.aborted ? abortDetail(signal) : (e.code ?? e.message)),
    );
    req.on("response", (res) => {
      const code = res.statusCode ?? 0;
      const accepted = o.status?.length ? o.status.includes(code) : code >= 200 && code < 300;
      if (!accepted) {
        res.destroy();
        return done(false, `status ${code}`);
      }
      if (!o.digest) {
        res.destroy();
        return done(true, `status ${code}`);
      }
      const h = createHash("md5");
      let size = 0;
      res.on("data", (d: Buffer) => {
        size += d.length;
        if (size > MAX_BODY) {
          res.destroy();
          done(false, "body too large for digest");
        } else h.update(d);
      });
      res.on("error", (e) => done(false, signal.aborted ? abortDetail(signal) : e.message));
      res.on("end", () => {
        const got = h.digest("hex");
        if (got === o.digest?.toLowerCase()) done(true, `status ${code}, digest ok`);
        else done(false, `digest ${got} != ${o.digest}`);
      });
    });
    req.end();
  });
};
