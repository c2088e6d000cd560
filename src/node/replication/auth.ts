/**
 * Peer authentication: an HMAC-SHA256 challenge-response (RFC 2104) in both directions. Each
 * side sends a random nonce in its HELLO and answers the other's nonce with
 *   HMAC(secret, label | peer nonce | own run id | own node id)
 * so a reply proves knowledge of the secret, is bound to this connection's challenge (no replay)
 * and to the sender's identity. Without a secret (loopback or --insecure-replication) the key is
 * empty: both ends still run the exchange, and a node with a secret refuses one without.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { NONCE_BYTES, RUN_ID_BYTES } from "./frame.js";

const LABEL = Buffer.from("keepcache-replication-v1\0", "latin1");

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function newRunId(): Buffer {
  return randomBytes(RUN_ID_BYTES);
}

export function authMac(secret: string, peerNonce: Buffer, runId: Buffer, nodeId: number): Buffer {
  const id = Buffer.allocUnsafe(2);
  id.writeUInt16BE(nodeId, 0);
  return createHmac("sha256", secret)
    .update(LABEL)
    .update(peerNonce)
    .update(runId)
    .update(id)
    .digest();
}

/** Checks the peer's answer to our nonce in constant time. */
export function verifyMac(
  secret: string,
  ourNonce: Buffer,
  peerRunId: Buffer,
  peerNodeId: number,
  mac: Buffer,
): boolean {
  const want = authMac(secret, ourNonce, peerRunId, peerNodeId);
  return mac.length === want.length && timingSafeEqual(mac, want);
}
