/**
 * Every error keepcache raises carries a stable `code` (for programs and alerts), a `name`
 * (the class, for people) and, where one exists, the underlying `cause`. Codes never change
 * meaning once released; add new ones instead.
 */
export type ErrorCode =
  | "KC_CONFIG_INVALID"
  | "KC_CONFIG_READ"
  | "KC_USAGE"
  | BackendErrorCode
  | "KC_REPLICATION"
  | "KC_REPLICATION_AUTH"
  | "KC_REPLICATION_TIMEOUT"
  | "KC_VRRP"
  | "KC_PERMISSION"
  | "KC_ADMIN"
  | "KC_LISTEN"
  | "KC_CLUSTER_MAP";

export class KeepcacheError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A problem in a configuration file: names the file, line, key and what is allowed. */
export class ConfigError extends KeepcacheError {
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string | undefined;
  constructor(
    file: string,
    line: number | undefined,
    key: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    const where = line === undefined ? file : `${file}:${line}`;
    super("KC_CONFIG_INVALID", `${where}: ${key ? `${key}: ` : ""}${message}`, options);
    this.file = file;
    this.line = line;
    this.key = key;
  }
}

/** Bad command-line usage: the CLI prints it with the usage text and exits 2. */
export class UsageError extends KeepcacheError {
  constructor(message: string) {
    super("KC_USAGE", message);
  }
}

/**
 * A listener the command was asked to open could not be opened. The CLI prints its one-line
 * message and exits 3: a process that serves without one of its ports would mislead the
 * operator (a node that does not replicate, a proxy without its stats port).
 */
export class ListenError extends KeepcacheError {
  readonly what: string;
  readonly address: string;
  constructor(what: string, address: string, cause: unknown) {
    const e = cause as NodeJS.ErrnoException;
    super(
      "KC_LISTEN",
      `cannot listen on ${address} (${what}): ${e?.code ?? ""}${e?.code ? " " : ""}${listenReason(e)}`,
      { cause },
    );
    this.what = what;
    this.address = address;
  }
}

function listenReason(e: NodeJS.ErrnoException | undefined): string {
  switch (e?.code) {
    case "EADDRINUSE":
      return "(another process listens there)";
    case "EACCES":
      return "(ports below 1024 need root or CAP_NET_BIND_SERVICE)";
    case "EADDRNOTAVAIL":
      return "(no interface has that address)";
    default:
      return `(${e?.message ?? String(e)})`;
  }
}

/**
 * What went wrong with a backend, for whoever asked it:
 *   - KC_BACKEND_TIMEOUT: it did not answer in time (a request's deadline, a connect);
 *   - KC_BACKEND_CLOSED: the connection failed or was closed (refused, reset, EOF, or closed by
 *     the proxy: reload, pool stop, operator, ejection, failover);
 *   - KC_BACKEND_PROTOCOL: it broke the protocol (unframeable or unasked-for bytes, a refused
 *     handshake);
 *   - KC_BACKEND_UNAVAILABLE: no backend can take the request now (none live in the pool or
 *     the replica set, no master, none for the client's dedicated connection);
 *   - KC_BACKEND_OVERLOADED: a bounded queue or pool is full (in-flight requests, dedicated
 *     connections, writes held for a master).
 */
export type BackendErrorCode =
  | "KC_BACKEND_TIMEOUT"
  | "KC_BACKEND_CLOSED"
  | "KC_BACKEND_PROTOCOL"
  | "KC_BACKEND_UNAVAILABLE"
  | "KC_BACKEND_OVERLOADED";

/**
 * A backend could not serve: a backend connection the TCP balancer opens did not come up in
 * time, or a proxy request failed. On the proxy's request path the message is the sentence the
 * client sees, which the pool's driver renders in the client's protocol (`SERVER_ERROR
 * keepcache: backend 127.0.0.1:11211 timed out after 100 ms`, `-ERR keepcache: ...`); one is
 * made only when a request fails, never on the way of a reply.
 */
export class BackendError extends KeepcacheError {
  declare readonly code: BackendErrorCode;
  /** The backend it concerns: a server's host:port, a replica set's or a pool's name. */
  readonly backend: string;
  /** What happened, without the backend's name ("timed out after 100 ms"): logs, health. */
  readonly reason: string;
  constructor(
    code: BackendErrorCode,
    backend: string,
    reason: string,
    /** message: when the sentence is not "keepcache: backend <backend> <reason>". */
    options?: { cause?: unknown; message?: string },
  ) {
    super(code, options?.message ?? `keepcache: backend ${backend} ${reason}`, options);
    this.backend = backend;
    this.reason = reason;
  }
}

/** No node of a Redis Cluster pool answered for the slot map (proxy/cluster/topology.ts). */
export class ClusterMapError extends KeepcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("KC_CLUSTER_MAP", message, options);
  }
}
