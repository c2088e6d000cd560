/**
 * One LRU list per slab class, doubly linked through the item headers (memcached items.c
 * heads[]/tails[], do_item_link_q / do_item_unlink_q). The head is the most recently used end;
 * eviction and reclaim start at the tail.
 */
import { H_NEXT, H_PREV } from "./layout.js";
import type { SlabArena } from "./slabs.js";
import { type Handle, NO_ITEM } from "./types.js";

export class LruLists {
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly size: Int32Array;

  constructor(
    private readonly arena: SlabArena,
    nClasses: number,
  ) {
    this.head = new Int32Array(nClasses).fill(NO_ITEM);
    this.tail = new Int32Array(nClasses).fill(NO_ITEM);
    this.size = new Int32Array(nClasses);
  }

  pushHead(cls: number, h: Handle): void {
    const a = this.arena;
    const old = this.head[cls];
    a.set(h, H_PREV, NO_ITEM);
    a.set(h, H_NEXT, old);
    if (old === NO_ITEM) this.tail[cls] = h;
    else a.set(old, H_PREV, h);
    this.head[cls] = h;
    this.size[cls]++;
  }

  remove(cls: number, h: Handle): void {
    const a = this.arena;
    const prev = a.get(h, H_PREV);
    const next = a.get(h, H_NEXT);
    if (prev === NO_ITEM) this.head[cls] = next;
    else a.set(prev, H_NEXT, next);
    if (next === NO_ITEM) this.tail[cls] = prev;
    else a.set(next, H_PREV, prev);
    this.size[cls]--;
  }

  /** Moves an item to the head (memcached do_item_update / do_item_bump). */
  bump(cls: number, h: Handle): void {
    if (this.head[cls] === h) return;
    this.remove(cls, h);
    this.pushHead(cls, h);
  }
}
