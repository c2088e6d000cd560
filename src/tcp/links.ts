/**
 * Open relayed connections, so that byte counters can include connections that are still
 * open. Reading socket.bytesRead at scrape time costs nothing on the data path (the kernel
 * socket wrapper already counts), unlike counting every chunk.
 */
import type net from "node:net";
import type { ServerCounters, ServiceCounters } from "./counters.js";

interface Link {
  client: net.Socket;
  up: net.Socket;
  /** The server's id, "" for the sorry server. */
  id: string;
}

/** Counters with the bytes of open connections included. */
export interface LiveCounters {
  service: ServiceCounters;
  servers: Record<string, ServerCounters>;
}

export class LinkTable {
  private readonly links = new Set<Link>();

  get size(): number {
    return this.links.size;
  }

  /** Registers a relayed connection; the returned function unregisters it. */
  add(client: net.Socket, up: net.Socket, id: string): () => void {
    const link: Link = { client, up, id };
    this.links.add(link);
    return () => this.links.delete(link);
  }

  /** Copies of the counters (bytes of closed connections) plus what open ones moved so far. */
  live(
    service: ServiceCounters,
    servers: ReadonlyMap<string, ServerCounters>,
    queueLength: number,
  ): LiveCounters {
    const out: LiveCounters = { service: { ...service, queueLength }, servers: {} };
    for (const [id, c] of servers) out.servers[id] = { ...c };
    for (const l of this.links) {
      const i = l.client.bytesRead;
      const o = l.up.bytesRead;
      out.service.bytesIn += i;
      out.service.bytesOut += o;
      const sc = out.servers[l.id];
      if (sc) {
        sc.bytesIn += i;
        sc.bytesOut += o;
      }
    }
    return out;
  }
}
