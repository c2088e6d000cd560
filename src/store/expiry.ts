/**
 * Expiration times, memcached protocol.txt "Expiration times": 0 means never; up to 30 days
 * (REALTIME_MAXDELTA, 60*60*24*30 s) it is an offset from now; above that it is an absolute
 * Unix time; a negative value means the item is immediately expired.
 */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

/** Internal exptime of an item that was already expired when stored (memcached.c realtime()). */
export const ALREADY_EXPIRED = -1;

/** Converts a client exptime to the absolute seconds the store keeps (0 = never). */
export function normalizeExptime(exptime: number, now: number): number {
  if (exptime === 0) return 0;
  if (exptime < 0) return ALREADY_EXPIRED;
  if (exptime > REALTIME_MAXDELTA) {
    // An absolute time in the past is already expired; memcached maps it to time 1.
    return exptime <= now ? ALREADY_EXPIRED : exptime;
  }
  return now + exptime;
}

/** memcached items.c: `it->exptime != 0 && it->exptime <= current_time`. */
export function isExpired(exptimeAbs: number, now: number): boolean {
  return exptimeAbs !== 0 && exptimeAbs <= now;
}
