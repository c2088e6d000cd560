/**
 * Every error keepcache raises carries a stable `code` (for programs and alerts), a `name`
 * (the class, for people) and, where one exists, the underlying `cause`. Codes never change
 * meaning once released; add new ones instead.
 */
export type ErrorCode =
  | "KC_CONFIG_INVALID"
  | "KC_CONFIG_READ"
  | "KC_USAGE"
  | "KC_BACKEND_TIMEOUT"
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
 * A backend connection the TCP balancer opens did not come up in time. (The proxy's request
 * path never raises: a failed request becomes a reply in the client's protocol that names the
 * backend and the reason, SERVER_ERROR / -ERR.)
 */
export class BackendError extends KeepcacheError {
  readonly backend: string;
  constructor(
    code: "KC_BACKEND_TIMEOUT",
    backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${backend}: ${message}`, options);
    this.backend = backend;
  }
}

/** No node of a Redis Cluster pool answered for the slot map (proxy/cluster/topology.ts). */
export class ClusterMapError extends KeepcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("KC_CLUSTER_MAP", message, options);
  }
}
