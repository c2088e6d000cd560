/**
 * Runtime actions of the admin API: disable/enable/drain a server, set its weight,
 * fail a pool's shard over by hand, force a VRRP instance to BACKUP, stop/start a node (the
 * `keepcache up` demo). The admin plane only routes: a subsystem registers an ActionHandler for
 * the names it owns and does the work in its control plane (build a routing table, swap it).
 */
import { KeepcacheError } from "../errors.js";

export type ServerOp = "disable" | "enable" | "drain";

export type Action =
  | { kind: "server"; pool: string; server: string; op: ServerOp }
  | { kind: "server"; pool: string; server: string; op: "weight"; weight: number }
  | { kind: "pool"; pool: string; op: "failover"; shard?: string; to?: string }
  | { kind: "vrrp"; instance: string; op: "backup" | "release" }
  | { kind: "node"; node: string; op: "stop" | "start" };

export type ActionKind = Action["kind"];

export interface ActionResult {
  /** One line for people: "web/cache-2 draining (12 requests in flight)". */
  message: string;
  data?: Record<string, unknown>;
}

export interface ActionHandler {
  kind: ActionKind;
  /** The pool, VRRP instance or node name handled; "*" handles every name of the kind. */
  name: string;
  /** Throw ActionError for a refused action (unknown server: 404, wrong state: 409). */
  handle(action: Action): ActionResult | Promise<ActionResult>;
}

/** A refused action; `status` is the HTTP status the API answers with. */
export class ActionError extends KeepcacheError {
  readonly status: number;
  constructor(status: 400 | 401 | 403 | 404 | 409 | 500 | 503, message: string) {
    super("KC_ADMIN", message);
    this.status = status;
  }
}

/** The name an action is routed by: the pool, instance or node. */
export function actionTarget(a: Action): string {
  switch (a.kind) {
    case "server":
    case "pool":
      return a.pool;
    case "vrrp":
      return a.instance;
    case "node":
      return a.node;
  }
}

/** Short text for logs and events: "server web/cache-2 drain". */
export function describeAction(a: Action): string {
  switch (a.kind) {
    case "server":
      return `server ${a.pool}/${a.server} ${a.op}${a.op === "weight" ? ` ${a.weight}` : ""}`;
    case "pool":
      return `pool ${a.pool} failover${a.shard ? ` shard ${a.shard}` : ""}${a.to ? ` to ${a.to}` : ""}`;
    case "vrrp":
      return `vrrp ${a.instance} ${a.op}`;
    case "node":
      return `node ${a.node} ${a.op}`;
  }
}

export class ActionRegistry {
  private readonly handlers = new Map<string, ActionHandler>();

  /** Adds a handler; one per kind+name. Returns the undo. */
  register(h: ActionHandler): () => void {
    const key = `${h.kind}/${h.name}`;
    if (this.handlers.has(key)) throw new Error(`action handler ${key} already registered`);
    this.handlers.set(key, h);
    return () => {
      if (this.handlers.get(key) === h) this.handlers.delete(key);
    };
  }

  find(a: Action): ActionHandler | undefined {
    return this.handlers.get(`${a.kind}/${actionTarget(a)}`) ?? this.handlers.get(`${a.kind}/*`);
  }

  /** Runs the action; ActionError(404) when no handler owns its target. */
  async run(a: Action): Promise<ActionResult> {
    const h = this.find(a);
    if (h === undefined) {
      throw new ActionError(404, `no ${a.kind} named '${actionTarget(a)}' accepts actions here`);
    }
    return await h.handle(a);
  }

  /** kind -> names with a handler, for the dashboard to show only buttons that work. */
  capabilities(): Record<ActionKind, string[]> {
    const out: Record<ActionKind, string[]> = { server: [], pool: [], vrrp: [], node: [] };
    for (const h of this.handlers.values()) out[h.kind].push(h.name);
    return out;
  }
}
