/**
 * One replication TCP connection, either direction: frame parsing, the HELLO/AUTH handshake,
 * liveness, and teardown. Both ends send HELLO at once; each answers the other's nonce with AUTH
 * and checks the answer to its own (auth.ts). Only then are other frames passed on. A peer that
 * fails the check gets an ERROR frame and is closed; the caller logs and counts it.
 */

import type { Socket } from "node:net";
import { type ErrorCode, KeepcacheError } from "../../errors.js";
import { authMac, newNonce, verifyMac } from "./auth.js";
import {
  decodeAuth,
  decodeError,
  decodeHello,
  encodeAuth,
  encodeError,
  encodeHello,
  Frame,
  FrameParser,
  FrameType,
  type Hello,
  ParseStatus,
  PROTOCOL_VERSION,
} from "./frame.js";

type ReplicationErrorCode = Extract<ErrorCode, `KC_REPLICATION${string}`>;

export interface LocalIdentity {
  nodeId: number;
  runId: Buffer;
  replPort: number;
  secret: string;
}

export interface ChannelHandler {
  /** Both sides proved the secret; `hello` is the peer's. */
  onReady(hello: Hello): void;
  /** A frame after the handshake; buf/f are valid only during the call. */
  onFrame(buf: Buffer, f: Frame): void;
  /** The socket data of one read was processed (a good moment to ACK). */
  onBatchEnd(): void;
  /**
   * The link is gone: KC_REPLICATION_AUTH when a peer failed authentication,
   * KC_REPLICATION_TIMEOUT when it went silent, KC_REPLICATION otherwise.
   */
  onClose(why: KeepcacheError): void;
}

export class Channel {
  private readonly parser: FrameParser;
  private readonly frame = new Frame();
  private readonly nonce = newNonce();
  private peer: Hello | undefined;
  private authed = false;
  private closed = false;
  private lastRx = Date.now();
  private timer: NodeJS.Timeout | undefined;
  peerHello: Hello | undefined;

  constructor(
    readonly socket: Socket,
    private readonly me: LocalIdentity,
    maxFrameBytes: number,
    private readonly timeoutMs: number,
    private readonly h: ChannelHandler,
  ) {
    this.parser = new FrameParser(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on("data", (c: Buffer) => this.onData(c));
    socket.on("error", (err) => this.close(err.message));
    socket.on("close", () => this.close("connection closed"));
    socket.write(
      encodeHello({
        protocol: PROTOCOL_VERSION,
        nodeId: me.nodeId,
        replPort: me.replPort,
        runId: me.runId,
        nonce: this.nonce,
      }),
    );
    this.timer = setInterval(
      () => {
        if (Date.now() - this.lastRx > this.timeoutMs)
          this.close("peer timed out", "KC_REPLICATION_TIMEOUT");
      },
      Math.max(50, Math.floor(timeoutMs / 4)),
    );
    this.timer.unref();
  }

  get ready(): boolean {
    return this.authed;
  }

  /** socket.write; false means wait for 'drain'. */
  send(b: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(b);
  }

  close(reason: string, code: ReplicationErrorCode = "KC_REPLICATION"): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.socket.destroy();
    this.h.onClose(new KeepcacheError(code, reason));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    this.parser.feed(chunk);
    const f = this.frame;
    while (!this.closed) {
      const st = this.parser.next(f);
      if (st === ParseStatus.NeedMore) break;
      if (st === ParseStatus.Error) {
        this.close(`protocol error: ${f.error}`);
        return;
      }
      try {
        this.handle(this.parser.buffer, f);
      } catch (err) {
        this.close(`protocol error: ${(err as Error).message}`);
        return;
      }
    }
    if (!this.closed && this.authed) this.h.onBatchEnd();
  }

  private handle(buf: Buffer, f: Frame): void {
    if (f.type === FrameType.Error) {
      this.close(`peer error: ${decodeError(buf, f)}`);
      return;
    }
    if (this.authed) {
      this.h.onFrame(buf, f);
      return;
    }
    if (this.peer === undefined) {
      if (f.type !== FrameType.Hello)
        throw new KeepcacheError("KC_REPLICATION", `frame ${f.type} before HELLO`);
      const hello = decodeHello(buf, f);
      if (hello.protocol !== PROTOCOL_VERSION) {
        this.socket.write(encodeError(`unsupported protocol ${hello.protocol}`));
        throw new KeepcacheError("KC_REPLICATION", `peer speaks protocol ${hello.protocol}`);
      }
      this.peer = hello;
      this.socket.write(
        encodeAuth(authMac(this.me.secret, hello.nonce, this.me.runId, this.me.nodeId)),
      );
      return;
    }
    if (f.type !== FrameType.Auth)
      throw new KeepcacheError("KC_REPLICATION", `frame ${f.type} before AUTH`);
    const mac = decodeAuth(buf, f);
    if (!verifyMac(this.me.secret, this.nonce, this.peer.runId, this.peer.nodeId, mac)) {
      this.socket.write(encodeError("authentication failed"));
      this.close("authentication failed", "KC_REPLICATION_AUTH");
      return;
    }
    this.authed = true;
    this.peerHello = this.peer;
    this.h.onReady(this.peer);
  }
}
