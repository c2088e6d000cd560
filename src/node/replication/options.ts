/** Settings of node-to-node replication, as `keepcache node` flags produce them. */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { formatHostPort } from "../../config/schema/common.js";

export interface PeerAddress {
  host: string;
  port: number;
}

export interface ReplicationOptions {
  peers: PeerAddress[];
  /** Port of the replication listener; 0 picks any free port. */
  port: number;
  /** 0-1023; part of every version this node issues, so two nodes never issue the same one. */
  nodeId: number;
  /** Peers that must have applied a write before the client hears success; 0 = asynchronous. */
  syncReplicas: number;
  syncTimeoutMs: number;
  /** Shared secret for the HMAC handshake; "" = none. */
  secret: string;
  insecure: boolean;
  backlogBytes: number;
  /** Seconds a delete's tombstone lives: longer than any sync could take to deliver older writes. */
  tombstoneTtl: number;
  /** A link with no frame for this long is declared dead and re-dialled. */
  peerTimeoutMs: number;
}

/** repcached's -X default (the replication port next to 11211). */
export const DEFAULT_PEER_PORT = 11212;

export const replicationDefaults: Omit<ReplicationOptions, "peers" | "port" | "nodeId"> = {
  syncReplicas: 0,
  syncTimeoutMs: 500,
  secret: "",
  insecure: false,
  backlogBytes: 64 * 1024 * 1024,
  tombstoneTtl: 300,
  peerTimeoutMs: 3000,
};

/** Parses `HOST[:PORT]` or `[V6]:PORT`; null when malformed. */
export function parsePeer(s: string): PeerAddress | null {
  const t = s.trim();
  let host = t;
  let port = DEFAULT_PEER_PORT;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1];
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(t) !== 6) {
    const i = t.lastIndexOf(":");
    if (i >= 0) {
      host = t.slice(0, i);
      const p = t.slice(i + 1);
      if (!/^\d+$/.test(p)) return null;
      port = Number(p);
    }
  }
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** A stable node id from the client address when none is given (collisions: pass --node-id). */
export function deriveNodeId(host: string, port: number): number {
  return createHash("sha256").update(`${host}:${port}`).digest().readUInt16BE(0) % 1024;
}

/** Whether traffic to this host stays on the machine (no secret needed). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return (
    h === "localhost" ||
    h === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
  );
}

/** Canonical host text for matching an inbound peer to a configured one. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase().replace(/^::ffff:/, "");
  return h === "localhost" || h === "::1" ? "127.0.0.1" : h;
}

export function peerKey(p: PeerAddress): string {
  return formatHostPort(normalizeHost(p.host), p.port);
}
