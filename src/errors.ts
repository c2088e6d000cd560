/**
 * Every error keepcache raises carries a stable `code` (for programs and alerts), a `name`
 * (the class, for people) and, where one exists, the underlying `cause`. Codes never change
 * meaning once released; add new ones instead.
 */
export type ErrorCode =
  | "KC_CONFIG_INVALID"
  | "KC_CONFIG_READ"
  | "KC_USAGE"
  | "KC_BACKEND_DOWN"
  | "KC_BACKEND_TIMEOUT"
  | "KC_BACKEND_CLOSED"
  | "KC_QUEUE_FULL"
  | "KC_REPLICATION"
  | "KC_REPLICATION_AUTH"
  | "KC_REPLICATION_TIMEOUT"
  | "KC_VRRP"
  | "KC_PERMISSION"
  | "KC_ADMIN";

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

/** A backend failed a request: the proxy turns it into SERVER_ERROR / -ERR naming the backend. */
export class BackendError extends KeepcacheError {
  readonly backend: string;
  constructor(
    code: "KC_BACKEND_DOWN" | "KC_BACKEND_TIMEOUT" | "KC_BACKEND_CLOSED" | "KC_QUEUE_FULL",
    backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${backend}: ${message}`, options);
    this.backend = backend;
  }
}
