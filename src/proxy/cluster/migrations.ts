/**
 * Slots being moved, read from one node's CLUSTER NODES (commands/cluster-nodes.md, "Special
 * slot entries"): on the line of the node asked (flag `myself`), `[slot->-id]` is a slot it is
 * migrating to node `id` and `[slot-<-id]` one it is importing from `id`; only that node's own
 * line carries them, so the control plane asks every master. Pure: text in, entries out;
 * addresses are resolved through the same reply's `id ip:port@cport` columns.
 */
import { labelOf } from "./servers.js";

export interface Migration {
  slot: number;
  /** The node that serves the slot until the move ends (host:port). */
  from: string;
  /** The node that receives it. */
  to: string;
}

const ENTRY = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/;

/** The migrations the node asked reports about itself (empty when it is in none). */
export function parseMigrations(text: string, askedHost: string): Migration[] {
  const addr = new Map<string, string>();
  let mine: string[] | undefined;
  let me = "";
  for (const line of text.split("\n")) {
    const f = line.trim().split(" ");
    if (f.length < 8) continue;
    // ip:port@cport[,hostname]; an empty ip means "the node you asked".
    const m = /^([^@]*):(\d+)@/.exec(f[1]);
    if (m === null) continue;
    const a = labelOf(m[1] === "" ? askedHost : m[1], Number(m[2]));
    addr.set(f[0], a);
    if (f[2].split(",").includes("myself")) {
      mine = f.slice(8);
      me = a;
    }
  }
  const out: Migration[] = [];
  for (const e of mine ?? []) {
    const m = ENTRY.exec(e);
    if (m === null) continue;
    const other = addr.get(m[3]) ?? m[3];
    const slot = Number(m[1]);
    out.push(m[2] === ">" ? { slot, from: me, to: other } : { slot, from: other, to: me });
  }
  return out;
}
