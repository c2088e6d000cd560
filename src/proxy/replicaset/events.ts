/**
 * Transitions of one replica set as they happen: member health changes
 * (down, back and warming, warm, fenced), failovers (start, switch of the write target, end
 * without a switch) and repointing. The set and its control plane emit them; the admin plane
 * (admin/sources/replicaset.ts) turns them into dashboard timeline events. Members are named
 * by index into `set.members`, so the listener chooses the display name.
 *
 * Emitting never throws and never waits: a listener's error is swallowed, since a broken
 * dashboard must not stop a failover.
 */
import type { MemberHealth } from "./view.js";

export type SetEvent =
  | {
      type: "member";
      member: number;
      from: MemberHealth;
      to: MemberHealth;
      reason: string;
    }
  | {
      /** start: writes held while a master is checked; end: held writes resumed, no switch. */
      type: "failover";
      phase: "start" | "end";
      /** The master in question (-1: none). */
      member: number;
      reason: string;
    }
  | {
      /** The write target changed: a promotion (leader) or a followed change (observer). */
      type: "switch";
      from: number;
      to: number;
      role: "leader" | "observer";
      reason: string;
    }
  | {
      /** REPLICAOF sent to a member so it follows the master `master`. */
      type: "repoint";
      member: number;
      master: number;
    };

export type SetEventListener = (e: SetEvent) => void;

export class SetEvents {
  private readonly listeners = new Set<SetEventListener>();

  subscribe(l: SetEventListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }

  emit(e: SetEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // see the file comment: the control plane goes on.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
