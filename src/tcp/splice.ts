/**
 * Byte piping between a client and a server socket. stream.pipe() provides the backpressure
 * (it pauses the source when the destination's write buffer is full and resumes on 'drain'),
 * and with allowHalfOpen on both sockets a FIN from one side is forwarded as a FIN to the
 * other while bytes keep flowing the other way (TCP half-close). An error on either side
 * destroys both. `onDone` runs once, after both sockets have closed.
 */
import type net from "node:net";

export interface SpliceTotals {
  /** Bytes read from the client. */
  fromClient: number;
  /** Bytes read from the server. */
  fromServer: number;
}

export function splice(
  client: net.Socket,
  server: net.Socket,
  onDone: (t: SpliceTotals) => void,
): void {
  let open = 2;
  const closed = () => {
    if (--open > 0) return;
    onDone({ fromClient: client.bytesRead, fromServer: server.bytesRead });
  };
  const fail = () => {
    client.destroy();
    server.destroy();
  };
  client.on("error", fail);
  server.on("error", fail);
  client.once("close", () => {
    // The client is gone entirely: nothing more can be delivered to it. Finish writing what
    // is already queued for the server, then close it.
    server.destroySoon();
    closed();
  });
  server.once("close", () => {
    client.destroySoon();
    closed();
  });
  client.pipe(server);
  server.pipe(client);
}
