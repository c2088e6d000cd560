/**
 * The cluster pool's control-plane link: one short-lived connection to one node that sends the
 * pool's handshake (AUTH), then CLUSTER SHARDS (Redis >= 7, commands/cluster-shards.md), or
 * CLUSTER SLOTS when the node does not know it (commands/cluster-slots.md), and decodes the
 * reply into a SlotMap; or CLUSTER NODES, for the slots that node is moving (migrations.ts). Never on the data path: the data connections stay pipelined and
 * protocol-blind. Bounded: the whole exchange has one deadline, and a reply larger than
 * MAX_REPLY fails it.
 */
import net from "node:net";
import tls from "node:tls";
import { ClusterMapError } from "../../errors.js";
import {
  type RespValue as Decoded,
  decodeReply,
  RespErrorValue,
} from "../../protocol/resp/value.js";
import type { HandshakeStep, ReplyFramer } from "../driver.js";
import { type Migration, parseMigrations } from "./migrations.js";
import { SlotMap } from "./slot-map.js";

const SHARDS = Buffer.from("*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n");
const SLOTS = Buffer.from("*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n");
const NODES = Buffer.from("*2\r\n$7\r\nCLUSTER\r\n$5\r\nNODES\r\n");
/** The Redis reply framer's token for one plain reply (redis/planner.ts EXPECT_ONE). */
const ONE_REPLY = 0;
/** A slot map of 1000 nodes is far below this. */
const MAX_REPLY = 64 * 1024 * 1024;

export interface FetchOptions {
  handshake: readonly HandshakeStep[];
  tls: tls.ConnectionOptions | undefined;
  timeoutMs: number;
  newFramer(): ReplyFramer;
}

/** The slot map as node host:port sees it. */
export async function fetchSlotMap(host: string, port: number, o: FetchOptions): Promise<SlotMap> {
  let reply = await exchange(host, port, o, SHARDS);
  // Redis < 7 has no CLUSTER SHARDS: ask the older command.
  const fallback = reply instanceof RespErrorValue && /unknown|subcommand/i.test(reply.message);
  if (fallback) reply = await exchange(host, port, o, SLOTS);
  if (reply instanceof RespErrorValue)
    throw new ClusterMapError(`${host}:${port} answered ${reply.message}`);
  try {
    return fallback ? SlotMap.fromSlots(reply, host) : SlotMap.fromShards(reply, host);
  } catch (err) {
    throw new ClusterMapError(`${host}:${port}: malformed slot map`, { cause: err });
  }
}

/** The slots node host:port is migrating or importing (CLUSTER NODES, its own line). */
export async function fetchMigrations(
  host: string,
  port: number,
  o: FetchOptions,
): Promise<Migration[]> {
  const reply = await exchange(host, port, o, NODES);
  if (typeof reply !== "string")
    throw new ClusterMapError(
      `${host}:${port} answered CLUSTER NODES with ${reply instanceof RespErrorValue ? reply.message : "no text"}`,
    );
  return parseMigrations(reply, host);
}

/** The decoded reply to `request` after the pool's handshake, on a connection of its own. */
function exchange(host: string, port: number, o: FetchOptions, request: Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const sock =
      o.tls !== undefined ? tls.connect({ ...o.tls, host, port }) : net.connect({ host, port });
    const framer = o.newFramer();
    const steps = [...o.handshake];
    let received = 0;
    const finish = (err: Error | undefined, reply?: Decoded) => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(reply as Decoded);
    };
    const timer = setTimeout(
      () => finish(new ClusterMapError(`${host}:${port} did not answer within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    sock.on("error", (err) =>
      finish(new ClusterMapError(`${host}:${port}: ${err.message}`, { cause: err })),
    );
    sock.on("close", () => finish(new ClusterMapError(`${host}:${port} closed the connection`)));
    sock.setNoDelay(true);
    sock.write(Buffer.concat([...steps.map((s) => s.request), request]));
    sock.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_REPLY) {
        finish(new ClusterMapError(`${host}:${port}: reply over ${MAX_REPLY} bytes`));
        return;
      }
      framer.feed(chunk);
      for (;;) {
        const step = steps[0];
        if (!framer.next(step?.expect ?? ONE_REPLY)) {
          if (framer.broken) finish(new ClusterMapError(`${host}:${port} broke the protocol`));
          return;
        }
        const reply = framer.buf.subarray(framer.start, framer.end);
        if (step !== undefined) {
          steps.shift();
          const why = step.check?.(reply);
          if (why !== undefined) {
            finish(new ClusterMapError(`${host}:${port} rejected the handshake: ${why}`));
            return;
          }
          continue;
        }
        try {
          finish(undefined, decodeReply(framer.buf, framer.start, framer.end));
        } catch (err) {
          finish(new ClusterMapError(`${host}:${port}: undecodable reply`, { cause: err }));
        }
        return;
      }
    });
  });
}
