/**
 * One connection to the Sentinel endpoint: RESP requests in (protocol/resp/parser.ts, so
 * framing, inline commands and protocol errors are redis-server's), replies out, and the
 * pub/sub state of a subscribed client (pubsub.md: RESP2 push replies `message` / `pmessage`;
 * while subscribed only (P)SUBSCRIBE, (P)UNSUBSCRIBE, PING, QUIT and RESET are allowed).
 *
 * Bounded: a request reply is produced only when a request is read, and reading pauses while
 * the socket's buffer is full (explicit backpressure), so a client that does not read stops
 * being served instead of growing memory. Published messages cannot wait: a subscriber whose
 * unread output passes `output_limit` is disconnected, as redis does with
 * `client-output-buffer-limit pubsub`.
 */
import type net from "node:net";
import { errorReply, simpleString } from "../protocol/resp/encoder.js";
import { ParseStatus, RespRequestParser } from "../protocol/resp/parser.js";
import { type CommandContext, runCommand } from "./commands.js";
import { encode, type Value } from "./encode.js";
import { globMatch } from "./glob.js";

/** An error line with its code as given ("ERR ...", "NOPROTO ..."). */
const errLine = (text: string): Buffer => errorReply(`-${text}`);

/** Sentinel requests are short; these bound what one client may make the parser hold. */
const LIMITS = { maxArgs: 1024, maxBulkLen: 64 * 1024, maxInlineLen: 64 * 1024 };

export interface ClientHost {
  context(c: SentinelClient): CommandContext;
  outputLimit: number;
  /** A client was dropped for exceeding output_limit. */
  overLimit(c: SentinelClient): void;
  closed(c: SentinelClient): void;
}

export class SentinelClient {
  name = "";
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  private readonly parser = new RespRequestParser(LIMITS);
  private closing = false;

  constructor(
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly host: ClientHost,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => socket.resume());
    socket.on("error", () => {});
    socket.on("close", () => host.closed(this));
  }

  get subscribed(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Delivers a published message if a channel or pattern matches (pubsub.md message formats). */
  deliver(channel: string, message: string): void {
    if (this.closing) return;
    if (this.channels.has(channel)) this.send(["message", channel, message]);
    for (const p of this.patterns)
      if (globMatch(p, channel)) this.send(["pmessage", p, channel, message]);
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const p = this.parser;
    p.feed(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const st = p.next();
      if (st === ParseStatus.NeedMore) break;
      if (st === ParseStatus.Error) {
        out.push(Buffer.from(p.errorReply, "latin1"));
        this.flush(out);
        this.socket.end();
        this.closing = true;
        return;
      }
      const r = p.req;
      const args: string[] = [];
      for (let i = 0; i < r.argc; i++)
        args.push(r.buf.toString("utf8", r.argStart[i], r.argEnd[i]));
      if (args.length === 0) continue;
      if (!this.handle(args, out)) {
        this.flush(out);
        this.socket.end();
        this.closing = true;
        return;
      }
    }
    this.flush(out);
  }

  /** Handles one request; false: close after the replies so far. */
  private handle(args: string[], out: Buffer[]): boolean {
    const cmd = args[0].toLowerCase();
    switch (cmd) {
      case "subscribe":
      case "psubscribe": {
        if (args.length < 2)
          return this.push(out, errLine(`ERR wrong number of arguments for '${cmd}' command`));
        const set = cmd === "subscribe" ? this.channels : this.patterns;
        for (const ch of args.slice(1)) {
          set.add(ch);
          encode([cmd, ch, this.subscribed], out);
        }
        return true;
      }
      case "unsubscribe":
      case "punsubscribe": {
        const set = cmd === "unsubscribe" ? this.channels : this.patterns;
        const names = args.length > 1 ? args.slice(1) : [...set];
        if (names.length === 0) encode([cmd, null, this.subscribed], out);
        for (const ch of names) {
          set.delete(ch);
          encode([cmd, ch, this.subscribed], out);
        }
        return true;
      }
      case "reset":
        this.channels.clear();
        this.patterns.clear();
        this.name = "";
        return this.push(out, simpleString("RESET"));
      case "ping":
        if (this.subscribed > 0 && args.length <= 2) {
          encode(["pong", args[1] ?? ""], out);
          return true;
        }
        break;
      default:
        if (this.subscribed > 0 && cmd !== "quit")
          return this.push(
            out,
            errLine(
              `ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
            ),
          );
    }
    const r = runCommand(args, this.host.context(this));
    switch (r.kind) {
      case "value":
        encode(r.value, out);
        return true;
      case "status":
        return this.push(out, simpleString(r.text));
      case "error":
        return this.push(out, errLine(r.text));
      case "quit":
        out.push(simpleString("OK"));
        return false;
    }
  }

  private push(out: Buffer[], b: Buffer): true {
    out.push(b);
    return true;
  }

  private send(v: Value): void {
    this.flush(encode(v));
  }

  private flush(out: Buffer[]): void {
    if (out.length === 0 || this.closing) return;
    if (!this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out))) this.socket.pause();
    if (this.socket.writableLength > this.host.outputLimit) {
      this.host.overLimit(this);
      this.close();
    }
  }
}
