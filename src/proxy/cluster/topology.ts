/**
 * The cluster pool's control-plane link: one short-lived connection to one node that sends the
 * pool's handshake (AUTH), then CLUSTER SHARDS (Redis >= 7, commands/cluster-shards.md), or
 * CLUSTER SLOTS when the node does not know it (commands/cluster-slots.md), and decodes the
 * reply into a SlotMap. Never on the data path: the data connections stay pipelined and
 * protocol-blind. Bounded: the whole exchange has one deadline, and a reply larger than
 * MAX_REPLY fails it.
 */
import net from "node:net";
import tls from "node:tls";
import { ClusterMapError } from "../../errors.js";
import { decodeReply, RespErrorValue } from "../../protocol/resp/value.js";
import type { HandshakeStep, ReplyFramer } from "../driver.js";
import { SlotMap } from "./slot-map.js";

const SHARDS = Buffer.from("*2\r\n$7\r\nCLUSTER\r\n$6\r\nSHARDS\r\n");
const SLOTS = Buffer.from("*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n");
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
export function fetchSlotMap(host: string, port: number, o: FetchOptions): Promise<SlotMap> {
  return new Promise((resolve, reject) => {
    const sock =
      o.tls !== undefined ? tls.connect({ ...o.tls, host, port }) : net.connect({ host, port });
    const framer = o.newFramer();
    const steps = [...o.handshake];
    let fallback = false;
    let received = 0;
    const finish = (err: Error | undefined, map?: SlotMap) => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(map as SlotMap);
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
    sock.write(Buffer.concat([...steps.map((s) => s.request), SHARDS]));
    sock.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_REPLY) {
        finish(new ClusterMapError(`${host}:${port}: slot map reply over ${MAX_REPLY} bytes`));
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
        let decoded: ReturnType<typeof decodeReply>;
        try {
          decoded = decodeReply(framer.buf, framer.start, framer.end);
        } catch (err) {
          finish(new ClusterMapError(`${host}:${port}: undecodable slot map`, { cause: err }));
          return;
        }
        if (decoded instanceof RespErrorValue) {
          // Redis < 7 has no CLUSTER SHARDS: ask the older command once.
          if (!fallback && /unknown|subcommand/i.test(decoded.message)) {
            fallback = true;
            sock.write(SLOTS);
            continue;
          }
          finish(new ClusterMapError(`${host}:${port} answered ${decoded.message}`));
          return;
        }
        try {
          finish(
            undefined,
            fallback ? SlotMap.fromSlots(decoded, host) : SlotMap.fromShards(decoded, host),
          );
        } catch (err) {
          finish(new ClusterMapError(`${host}:${port}: malformed slot map`, { cause: err }));
        }
        return;
      }
    });
  });
}
