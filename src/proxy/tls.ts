/** TLS material from the pool's `tls:` (listener) and `server_tls:` (backends) sections. */
import { readFileSync } from "node:fs";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import type { TlsConfig } from "../config/index.js";

function read(path: string | undefined): Buffer | undefined {
  return path === undefined ? undefined : readFileSync(path);
}

/** Options for tls.createServer. With `ca`, clients must present a certificate signed by it. */
export function listenerTls(cfg: TlsConfig): TlsOptions {
  const ca = read(cfg.ca);
  return {
    cert: read(cfg.cert),
    key: read(cfg.key),
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/**
 * Options for tls.connect to a backend. The backend's certificate is always verified (against
 * `ca` when given, else the system store); `cert`/`key` are the proxy's client certificate.
 */
export function backendTls(cfg: TlsConfig): ConnectionOptions {
  return {
    ca: read(cfg.ca),
    cert: read(cfg.cert),
    key: read(cfg.key),
    ...(cfg.servername !== undefined ? { servername: cfg.servername } : {}),
    rejectUnauthorized: true,
  };
}
