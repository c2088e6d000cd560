/**
 * Byte relaying between a client and a server socket. Each direction is a minimal hand-rolled
 * pipe: a chunk read is written at once (libuv tries the write synchronously, so a small message
 * costs no extra event-loop turn and is never copied into a second buffer), and when the
 * destination's write buffer is full the source is paused until 'drain' (the backpressure
 * stream.pipe() gives, without its per-pipe bookkeeping of seven listeners per side).
 *
 * With allowHalfOpen on both sockets, a FIN from one side is forwarded as a FIN to the other
 * while bytes keep flowing the other way (TCP half-close). An error on either side destroys
 * both. `onDone` runs once, after both sockets have closed, with the bytes each side sent.
 * With a DirectReader (the server socket was made with its `onread`), the server→client
 * direction skips the stream machinery (direct-reader.ts).
 */
import type net from "node:net";
import type { DirectReader } from "./direct-reader.js";

export interface SpliceTotals {
  /** Bytes read from the client. */
  fromClient: number;
  /** Bytes read from the server. */
  fromServer: number;
}

function relay(src: net.Socket, dst: net.Socket): void {
  src.on("data", (chunk: Buffer) => {
    if (!dst.write(chunk)) src.pause();
  });
  dst.on("drain", () => src.resume());
  src.on("end", () => dst.end());
  // Bytes that arrived before the relay started wait in the readable buffer; a paused socket
  // (readableFlowing === false) is not restarted by a 'data' listener alone.
  src.resume();
}

export function splice(
  client: net.Socket,
  server: net.Socket,
  onDone: (t: SpliceTotals) => void,
  direct?: DirectReader,
): void {
  let open = 2;
  const closed = () => {
    if (--open > 0) return;
    direct?.release();
    onDone({ fromClient: client.bytesRead, fromServer: server.bytesRead });
  };
  const fail = () => {
    client.destroy();
    server.destroy();
  };
  client.on("error", fail);
  server.on("error", fail);
  client.on("close", () => {
    // The client is gone entirely: nothing more can be delivered to it. Finish writing what
    // is already queued for the server, then close it.
    server.destroySoon();
    closed();
  });
  server.on("close", () => {
    client.destroySoon();
    closed();
  });
  relay(client, server);
  if (direct === undefined) relay(server, client);
  else {
    direct.attach(server, client);
    server.on("end", () => client.end());
    // Flowing mode, so that the EOF Node pushes after the last read is emitted as 'end'.
    server.resume();
  }
}
