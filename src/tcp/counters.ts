/**
 * Plain-number counters of a TCP service and its servers, read by the metrics module. Totals
 * only grow; `active` and `queueLength` are gauges. Bytes are counted when a connection ends.
 */
export interface ServerCounters {
  connectionsTotal: number;
  active: number;
  /** Bytes received from clients and sent to this server. */
  bytesIn: number;
  /** Bytes received from this server and sent to clients. */
  bytesOut: number;
  connectFailures: number;
  /** Health state changes (up↔down). */
  transitions: number;
}

export interface ServiceCounters {
  connectionsTotal: number;
  active: number;
  bytesIn: number;
  bytesOut: number;
  queueLength: number;
  queuedTotal: number;
  queueTimeouts: number;
  /** Clients refused because the queue was full. */
  queueFull: number;
  connectFailures: number;
  /** Clients closed because no server (not even the sorry server) could take them. */
  noServer: number;
  sorryConnections: number;
  transitions: number;
}

export function newServerCounters(): ServerCounters {
  return {
    connectionsTotal: 0,
    active: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectFailures: 0,
    transitions: 0,
  };
}

export function newServiceCounters(): ServiceCounters {
  return {
    connectionsTotal: 0,
    active: 0,
    bytesIn: 0,
    bytesOut: 0,
    queueLength: 0,
    queuedTotal: 0,
    queueTimeouts: 0,
    queueFull: 0,
    connectFailures: 0,
    noServer: 0,
    sorryConnections: 0,
    transitions: 0,
  };
}
