/**
 * The memcached protocol driver (twemproxy's nc_memcache.c role): ASCII, meta and binary. The
 * protocol is chosen per client connection from its first byte, as memcached does
 * (protocol-binary.txt "Magic Byte": 0x80 is binary).
 */
import type { ClientParser, ClientState, DriverLimits, Plan, ProtocolDriver } from "../driver.js";
import { ParseResult } from "../driver.js";
import { BinaryClientParser } from "./binary-client.js";
import { Kind } from "./expect.js";
import { MemcacheFramer } from "./framer.js";
import { TextClientParser } from "./text-client.js";

const EMPTY = Buffer.alloc(0);

/** Defers the text/binary choice to the first byte received. */
class DetectingParser implements ClientParser {
  private inner: ClientParser | undefined;
  constructor(
    private readonly limits: DriverLimits,
    private readonly state: ClientState,
  ) {}
  get plan(): Plan | undefined {
    return this.inner?.plan;
  }
  get errorReply(): Buffer | undefined {
    return this.inner?.errorReply;
  }
  /** Binary clients: 1; text clients: 0, or the text parser's choice for its last plan. */
  get channel(): number {
    const inner = this.inner;
    return inner instanceof BinaryClientParser ? 1 : (inner?.channel ?? 0);
  }
  get more(): boolean {
    return this.inner?.more ?? false;
  }
  get close(): boolean {
    return this.inner?.close ?? false;
  }
  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.inner ??=
      chunk[0] === 0x80
        ? new BinaryClientParser(this.limits.maxRequestBytes)
        : new TextClientParser(this.limits.maxRequestBytes, this.state);
    this.inner.feed(chunk);
  }
  next(): ParseResult {
    return this.inner === undefined ? ParseResult.NeedMore : this.inner.next();
  }
  failReply(tag: number, silent: boolean, message: string): Buffer {
    return this.inner?.failReply(tag, silent, message) ?? EMPTY;
  }
}

export const memcacheDriver: ProtocolDriver = {
  name: "memcache",
  newClientParser(limits: DriverLimits, state: ClientState): ClientParser {
    return new DetectingParser(limits, state);
  },
  newReplyFramer() {
    return new MemcacheFramer();
  },
  errorReply(message: string): Buffer {
    return Buffer.from(`SERVER_ERROR ${message}\r\n`, "latin1");
  },
  probe() {
    return {
      request: Buffer.from("version\r\n"),
      expect: Kind.Line,
      ok: (reply: Buffer) => reply.toString("latin1", 0, 8) === "VERSION ",
    };
  },
  handshake() {
    return [];
  },
};

export { MemcacheFramer } from "./framer.js";
