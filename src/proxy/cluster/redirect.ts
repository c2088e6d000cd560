/**
 * Cluster redirections (cluster-spec.md "Redirection and resharding", "ASK redirection"):
 *   -MOVED <slot> <endpoint>:<port>     the slot lives elsewhere now: update the map
 *   -ASK <slot> <endpoint>:<port>       this one request: send ASKING then it, to that node
 * The endpoint is an IP, a hostname, or "?" / empty when the node does not know how it is
 * reached (cluster-preferred-endpoint-type unknown-endpoint): the client then uses the host
 * it sent the request to. IPv6 endpoints contain ':': the port follows the LAST ':'.
 * Pure, over the reply's bytes (the error line as framed, with or without its CRLF).
 */
import { SLOTS } from "./slot.js";

export interface Redirect {
  kind: "moved" | "ask";
  slot: number;
  /** "" when the server did not name one: use the host the request went to. */
  host: string;
  port: number;
}

const MOVED = Buffer.from("-MOVED ");
const ASK = Buffer.from("-ASK ");

function startsWith(buf: Uint8Array, start: number, end: number, p: Buffer): boolean {
  if (end - start < p.length) return false;
  for (let i = 0; i < p.length; i++) if (buf[start + i] !== p[i]) return false;
  return true;
}

/** The redirect in the error reply buf[start, end), or undefined if it is not one. */
export function parseRedirect(buf: Buffer, start: number, end: number): Redirect | undefined {
  let kind: Redirect["kind"];
  let p: number;
  if (startsWith(buf, start, end, MOVED)) {
    kind = "moved";
    p = start + MOVED.length;
  } else if (startsWith(buf, start, end, ASK)) {
    kind = "ask";
    p = start + ASK.length;
  } else return undefined;
  while (end > p && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
  let slot = 0;
  const s0 = p;
  for (; p < end && buf[p] >= 0x30 && buf[p] <= 0x39; p++) {
    slot = slot * 10 + buf[p] - 0x30;
    if (slot >= SLOTS) return undefined;
  }
  if (p === s0 || p >= end || buf[p] !== 0x20) return undefined;
  const addr = buf.toString("latin1", p + 1, end);
  const colon = addr.lastIndexOf(":");
  if (colon < 0) return undefined;
  const portText = addr.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  let host = addr.slice(0, colon);
  if (host === "?") host = "";
  if (/\s/.test(host)) return undefined;
  return { kind, slot, host, port };
}
