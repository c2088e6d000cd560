/** Meta get and meta debug (protocol.txt "Meta Get", "Meta Debug"). */
import { MetaFlag as F, type TextRequest } from "../protocol/memcache/text-request.js";
import { normalizeExptime } from "../store/expiry.js";
import { NO_ITEM } from "../store/types.js";
import type { OutBuffer } from "../util/out-buffer.js";
import type { NodeContext } from "./context.js";
import { keyOf, ttlLeft } from "./meta-common.js";
import { line, writeInt, writeU64 } from "./reply.js";

export function metaGet(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  const store = ctx.store;
  const c = ctx.counters;
  const now = ctx.now();
  const k = keyOf(req, buf);
  const m = req.mflags;
  c.cmd_get++;
  let h = store.peek(k.buf, k.s, k.e, now);
  let created = false;
  if (h === NO_ITEM) {
    c.get_misses++;
    if ((m & F.N) === 0) {
      if ((m & F.q) === 0) out.ascii("EN\r\n");
      return;
    }
    // N: vivify on miss, so one client wins the right to fill the key (protocol.txt, mg N).
    const v = ctx.nextVersion();
    h = store.put(k.buf, k.s, k.e, 0, 0, normalizeExptime(req.vivifyTtl, now), v.hi, v.lo, now);
    if (h === NO_ITEM) {
      line(out, "SERVER_ERROR out of memory");
      return;
    }
    created = true;
  } else c.get_hits++;
  const fetchedBefore = store.wasFetched(h);
  const lastAccess = store.lastAccess(h);
  if (m & F.T) {
    c.cmd_touch++;
    c.touch_hits++;
    store.setExptime(h, normalizeExptime(req.exptime, now));
  }
  const vlen = store.valueLength(h);
  if (m & F.v) {
    out.ascii("VA ");
    out.decimal(vlen);
  } else out.ascii("HD");
  for (let i = 0; i < req.tokCount; i++) {
    const s = req.tokStarts[i];
    switch (buf[s]) {
      case 0x63: // c
        out.ascii(" c");
        writeU64(out, store.verHi(h), store.verLo(h));
        break;
      case 0x66: // f
        out.ascii(" f");
        out.decimal(store.flags(h));
        break;
      case 0x68: // h
        out.ascii(fetchedBefore ? " h1" : " h0");
        break;
      case 0x6b: // k
        out.ascii(" k");
        out.bytes(buf, req.keyStart, req.keyEnd);
        if (m & F.b) out.ascii(" b");
        break;
      case 0x6c: // l
        out.ascii(" l");
        out.decimal(Math.max(0, now - lastAccess));
        break;
      case 0x4f: // O
        out.u8(0x20);
        out.bytes(buf, s, req.tokEnds[i]);
        break;
      case 0x73: // s
        out.ascii(" s");
        out.decimal(vlen);
        break;
      case 0x74: // t
        out.ascii(" t");
        writeInt(out, ttlLeft(store, h, now));
        break;
    }
  }
  // Win/stale tokens, in memcached's order: W for a vivified item; otherwise Z if a win was
  // already handed out, X if stale (plus W to the first client to see it), W on a recache hit.
  if (created) {
    out.ascii(" W");
    store.setTokenSent(h, true);
  } else {
    const sent = store.tokenSent(h);
    if (sent) out.ascii(" Z");
    if (store.isStale(h)) {
      out.ascii(" X");
      if (!sent) {
        out.ascii(" W");
        store.setTokenSent(h, true);
      }
    } else if (!sent && m & F.R) {
      const left = ttlLeft(store, h, now);
      if (left !== -1 && left < req.recacheTtl) {
        out.ascii(" W");
        store.setTokenSent(h, true);
      }
    }
  }
  out.crlf();
  if (m & F.v) {
    const vs = store.valueStart(h);
    out.bytes(store.valueBuffer(h), vs, vs + vlen);
    out.crlf();
  }
  store.markFetched(h, now, (m & F.u) === 0);
}

export function metaDebug(ctx: NodeContext, req: TextRequest, buf: Buffer, out: OutBuffer): void {
  const store = ctx.store;
  const now = ctx.now();
  const h = store.peek(buf, req.keyStart, req.keyEnd, now);
  if (h === NO_ITEM) {
    out.ascii("EN\r\n");
    return;
  }
  // protocol.txt "Meta Debug": exp is seconds left (-1 = never), la seconds since access.
  out.ascii("ME ");
  out.bytes(buf, req.keyStart, req.keyEnd);
  out.ascii(` exp=${ttlLeft(store, h, now)} la=${Math.max(0, now - store.lastAccess(h))} cas=`);
  writeU64(out, store.verHi(h), store.verLo(h));
  out.ascii(
    ` fetch=${store.wasFetched(h) ? "yes" : "no"} cls=${store.slabClass(h)} size=${store.itemSize(h)}\r\n`,
  );
}
