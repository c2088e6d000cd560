/**
 * Self-signed certificates for TLS tests, made by the real `openssl` (scripts/install-deps.sh
 * installs it). EC P-256 keys: fast to generate, accepted by Node, memcached-style TLS
 * forwarders and the proxy alike. The certificate names 127.0.0.1 (CN and subjectAltName), so
 * clients that check the host accept it once they trust it as a CA.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCert {
  /** PEM paths. */
  cert: string;
  key: string;
  /** SHA-256 fingerprint, as tls.TLSSocket#getPeerCertificate().fingerprint256 gives it. */
  fp: string;
}

/** Writes `<name>.pem` and `<name>.key` into `dir`. */
export function selfSignedCert(dir: string, name = "cert"): TestCert {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
      ...["-nodes", "-days", "1", "-keyout", key, "-out", cert],
      ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore", timeout: 20_000 },
  );
  return { cert, key, fp: new X509Certificate(readFileSync(cert)).fingerprint256 };
}
