/**
 * Pure parsers for what the failover control plane reads from Redis: the ROLE reply
 * (`["master", offset, [[ip, port, offset]...]]` or `["slave", host, port, state, offset]`,
 * commands/role.md) and INFO fields (`role`, `master_link_status`, `slave_repl_offset`,
 * `slave_priority`/`replica-priority`, `master_repl_offset`, `run_id`).
 */

export type RoleReply =
  | { role: "master"; offset: number; replicas: { host: string; port: number; offset: number }[] }
  | {
      role: "replica";
      masterHost: string;
      masterPort: number;
      /** connect | connecting | sync | connected | handshake (replication.c) */
      state: string;
      offset: number;
    }
  | { role: "sentinel" };

export function parseRole(reply: unknown): RoleReply | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const kind = String(reply[0]);
  if (kind === "master") {
    const list = Array.isArray(reply[2]) ? (reply[2] as unknown[]) : [];
    return {
      role: "master",
      offset: Number(reply[1]) || 0,
      replicas: list
        .filter((r): r is unknown[] => Array.isArray(r))
        .map((r) => ({ host: String(r[0]), port: Number(r[1]), offset: Number(r[2]) || 0 })),
    };
  }
  if (kind === "slave" || kind === "replica") {
    return {
      role: "replica",
      masterHost: String(reply[1]),
      masterPort: Number(reply[2]),
      state: String(reply[3]),
      offset: Number(reply[4]) || 0,
    };
  }
  if (kind === "sentinel") return { role: "sentinel" };
  return undefined;
}

/** INFO text → field map (sections and comments dropped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

export interface ReplicaFacts {
  index: number;
  /** replica-priority; 0 = never promote (sentinel.c sentinelSelectSlave). */
  priority: number;
  offset: number;
  runId: string;
  linkDown: boolean;
}

export function replicaFacts(index: number, info: Map<string, string>): ReplicaFacts {
  const pr = info.get("slave_priority") ?? info.get("replica_priority");
  return {
    index,
    priority: pr === undefined ? 100 : Number(pr),
    offset: Number(info.get("slave_repl_offset") ?? info.get("master_repl_offset") ?? 0),
    runId: info.get("run_id") ?? "",
    linkDown: info.get("master_link_status") !== "up",
  };
}
