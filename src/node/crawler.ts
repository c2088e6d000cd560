/**
 * `lru_crawler` (protocol.txt "LRU_Crawler"). `metadump` lists every live item, which is what a
 * proxy uses to warm a returning replica (copy the keys from a live member). The other
 * subcommands tune memcached's background crawler thread; keepcache expires lazily and reclaims
 * at the LRU tail instead, so they are accepted and have nothing to change.
 *
 * A metadump of a large store is megabytes of text: it is written up to the session's output
 * budget per run, resuming the store's scan cursor (the same cursor a replication full sync
 * resumes while serving), so the event loop serves other clients between budgets.
 */
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { line } from "./reply.js";
import type { MoreReply } from "./session.js";

/** Answers `lru_crawler <args>`; a metadump cut at `budget` returns the rest to write later. */
export function lruCrawler(
  ctx: NodeContext,
  args: string,
  out: OutBuffer,
  budget: number,
): MoreReply | null {
  const [sub, arg] = args.split(/\s+/);
  switch (sub) {
    case "metadump": {
      if (!arg) {
        line(out, "CLIENT_ERROR bad command line format");
        return null;
      }
      const more = metadump(ctx);
      return more(out, budget) ? null : more;
    }
    case "crawl":
    case "enable":
    case "disable":
    case "sleep":
    case "tocrawl":
      line(out, "OK");
      return null;
    default:
      line(out, "CLIENT_ERROR bad command line format");
      return null;
  }
}

/** One line per item: key=<url-encoded> exp= la= cas= fetch= cls= size=, then END. */
function metadump(ctx: NodeContext): MoreReply {
  const store = ctx.store;
  let cursor = 0;
  return (out, budget) => {
    const now = ctx.now();
    const emit = (h: number) => {
      const key = store
        .keyBuffer(h)
        .toString("latin1", store.keyStart(h), store.keyStart(h) + store.keyLength(h));
      const exp = store.exptime(h);
      out.ascii(
        `key=${encodeURIComponent(key)} exp=${exp === 0 ? -1 : exp} la=${store.lastAccess(h)} cas=${store.casString(h)} fetch=${store.wasFetched(h) ? "yes" : "no"} cls=${store.slabClass(h)} size=${store.itemSize(h)}\n`,
      );
    };
    do cursor = store.scan(cursor, 1024, now, emit);
    while (cursor !== 0 && out.pending < budget);
    if (cursor !== 0) return false;
    out.ascii("END\r\n");
    return true;
  };
}
