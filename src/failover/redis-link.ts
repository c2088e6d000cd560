/**
 * Control-plane connections to Redis servers and Sentinels (ROLE, INFO, REPLICAOF, SENTINEL,
 * SUBSCRIBE), on the project's own RESP code (requests encoded as RESP arrays of bulk strings,
 * replies framed by RespReplyFramer and decoded by value.ts). Built to fail fast rather than
 * queue: a command while disconnected is rejected at once, a command that gets no reply
 * within the timeout rejects and drops the connection (its reply stream can no longer be
 * matched), and a closed connection is dialled again every 100 ms, so a dead server costs one
 * rejected promise per poll and a returning one is seen within 100 ms. No ready check: a
 * -LOADING server still answers ROLE.
 *
 * A subscriber link (subscribe()) sends SUBSCRIBE after every connect and hands each
 * `message` push (["message", channel, payload], commands/subscribe.md) to its listener.
 */
import { connect, type Socket } from "node:net";
import { ParseStatus } from "../protocol/resp/parser.js";
import { RespReplyFramer } from "../protocol/resp/reply.js";
import { decodeReply, RespErrorValue, type RespValue } from "../protocol/resp/value.js";

export interface LinkOptions {
  password?: string;
  timeoutMs?: number;
}

/** An error reply from the server (`-ERR ...`), or the link's own failure. */
export class RedisReplyError extends Error {
  override name = "RedisReplyError";
}

const RECONNECT_MS = 100;
/** Commands in flight on one link; the control plane sends a few per poll. */
const MAX_PENDING = 64;
/** Control-plane replies are small (INFO is the largest); a larger one means a wrong peer. */
const REPLY_LIMITS = { maxBulkLen: 16 * 1024 * 1024, maxDepth: 16 };

interface Pending {
  resolve(v: RespValue): void;
  reject(e: Error): void;
}

/** A RESP2 request: an array of bulk strings. */
export function encodeCommand(args: readonly (string | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

export class RedisLink {
  private sock: Socket | undefined;
  private ready = false;
  private closed = false;
  private framer = new RespReplyFramer(REPLY_LIMITS);
  private readonly pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;
  private sub:
    | { channel: string; onMessage: (channel: string, message: string) => void }
    | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: LinkOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 500;
    this.dial();
  }

  get label(): string {
    return `${this.host}:${this.port}`;
  }

  /** Subscribes to `channel` now and after every reconnect (pub/sub links only). */
  subscribe(channel: string, onMessage: (channel: string, message: string) => void): void {
    this.sub = { channel, onMessage };
    if (this.ready) this.sendSubscribe();
  }

  call(command: string, ...args: (string | number)[]): Promise<unknown> {
    if (!this.ready || this.sock === undefined)
      return Promise.reject(new RedisReplyError(`${this.label}: not connected`));
    return this.send([command, ...args]);
  }

  close(): void {
    this.closed = true;
    this.drop(new RedisReplyError(`${this.label}: link closed`));
  }

  private send(args: readonly (string | number)[]): Promise<RespValue> {
    const sock = this.sock;
    if (sock === undefined)
      return Promise.reject(new RedisReplyError(`${this.label}: not connected`));
    if (this.pending.length >= MAX_PENDING)
      return Promise.reject(
        new RedisReplyError(`${this.label}: ${MAX_PENDING} commands in flight`),
      );
    return new Promise<RespValue>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      sock.write(encodeCommand(args));
      this.armTimer();
    });
  }

  private dial(): void {
    if (this.closed) return;
    const sock = connect({ host: this.host, port: this.port, noDelay: true });
    this.sock = sock;
    this.framer = new RespReplyFramer(REPLY_LIMITS);
    sock.setTimeout(this.timeoutMs, () => sock.destroy(new Error("connect timeout")));
    sock.on("connect", () => {
      sock.setTimeout(0);
      void this.onConnect(sock);
    });
    sock.on("data", (chunk: Buffer) => this.onData(sock, chunk));
    // Errors end in 'close'; a server that is down is expected here.
    sock.on("error", () => {});
    sock.on("close", () => {
      if (this.sock !== sock) return;
      this.drop(new RedisReplyError(`${this.label}: connection closed`));
      if (!this.closed) setTimeout(() => this.dial(), RECONNECT_MS).unref();
    });
  }

  private async onConnect(sock: Socket): Promise<void> {
    try {
      if (this.opts.password !== undefined) await this.send(["AUTH", this.opts.password]);
    } catch {
      // A refused password: drop and retry later, as a down server (the poll reports it).
      sock.destroy();
      return;
    }
    if (this.sock !== sock) return;
    this.ready = true;
    if (this.sub !== undefined) this.sendSubscribe();
  }

  private sendSubscribe(): void {
    const sub = this.sub;
    if (sub === undefined || this.sock === undefined) return;
    // The subscribe confirmation is a push, not a reply: it arrives through onPush.
    this.sock.write(encodeCommand(["SUBSCRIBE", sub.channel]));
  }

  private onData(sock: Socket, chunk: Buffer): void {
    if (this.sock !== sock) return;
    const f = this.framer;
    f.feed(chunk);
    for (;;) {
      const st = f.next();
      if (st === ParseStatus.NeedMore) break;
      if (st === ParseStatus.Error) {
        sock.destroy();
        return;
      }
      const r = f.reply;
      const value = decodeReply(r.buf, r.frameStart, r.frameEnd);
      if (this.sub !== undefined && this.isPush(value)) continue;
      const p = this.pending.shift();
      if (p === undefined) continue;
      if (value instanceof RespErrorValue) p.reject(new RedisReplyError(value.message));
      else p.resolve(value);
    }
    this.armTimer();
  }

  /** A subscriber's pushes: `message` is delivered, `subscribe` confirmations dropped. */
  private isPush(v: RespValue): boolean {
    if (!Array.isArray(v) || v.length < 3) return false;
    if (v[0] === "message" && typeof v[1] === "string" && typeof v[2] === "string") {
      this.sub?.onMessage(v[1], v[2]);
      return true;
    }
    return v[0] === "subscribe";
  }

  /** One timer for the oldest command in flight; none when nothing is. */
  private armTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const sock = this.sock;
    this.timer = setTimeout(() => {
      if (this.sock === sock) sock?.destroy(new Error("command timeout"));
    }, this.timeoutMs);
    this.timer.unref();
  }

  /** Fails every command in flight and forgets the socket. */
  private drop(err: Error): void {
    this.ready = false;
    const sock = this.sock;
    if (this.closed) this.sock = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.pending.splice(0)) p.reject(err);
    if (this.closed) sock?.destroy();
  }
}
