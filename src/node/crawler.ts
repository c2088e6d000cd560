/**
 * `lru_crawler` (protocol.txt "LRU_Crawler"). `metadump` lists every live item, which is what a
 * proxy uses to warm a returning replica (copy the keys from a live member). The other
 * subcommands tune memcached's background crawler thread; keepcache expires lazily and reclaims
 * at the LRU tail instead, so they are accepted and have nothing to change.
 */
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { line } from "./reply.js";

export function lruCrawler(ctx: NodeContext, args: string, out: OutBuffer): void {
  const [sub, arg] = args.split(/\s+/);
  switch (sub) {
    case "metadump":
      if (!arg) {
        line(out, "CLIENT_ERROR bad command line format");
        return;
      }
      metadump(ctx, out);
      return;
    case "crawl":
    case "enable":
    case "disable":
    case "sleep":
    case "tocrawl":
      line(out, "OK");
      return;
    default:
      line(out, "CLIENT_ERROR bad command line format");
  }
}

/** One line per item: key=<url-encoded> exp= la= cas= fetch= cls= size=, then END. */
function metadump(ctx: NodeContext, out: OutBuffer): void {
  const store = ctx.store;
  const now = ctx.now();
  let cursor = 0;
  do {
    cursor = store.scan(cursor, 1024, now, (h) => {
      const key = store
        .keyBuffer(h)
        .toString("latin1", store.keyStart(h), store.keyStart(h) + store.keyLength(h));
      const exp = store.exptime(h);
      out.ascii(
        `key=${encodeURIComponent(key)} exp=${exp === 0 ? -1 : exp} la=${store.lastAccess(h)} cas=${store.casString(h)} fetch=${store.wasFetched(h) ? "yes" : "no"} cls=${store.slabClass(h)} size=${store.itemSize(h)}\n`,
      );
    });
  } while (cursor !== 0);
  out.ascii("END\r\n");
}
