/**
 * VRRP timing formulas, in milliseconds (fractional: the RFC values are exact fractions).
 * v2, RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 s, Master_Down_Interval =
 *   3 × Advertisement_Interval + Skew_Time.
 * v3, RFC 5798 §6.1 (as corrected by RFC 9568): Skew_Time = ((256 - Priority) ×
 *   Master_Adver_Interval) / 256, Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time,
 *   where Master_Adver_Interval is learned from the current master's adverts.
 */

export function skewTimeMs(version: 2 | 3, priority: number, masterAdverCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * masterAdverCs * 10) / 256;
}

export function masterDownIntervalMs(
  version: 2 | 3,
  priority: number,
  masterAdverCs: number,
): number {
  // v2 has no learned interval: receivers drop adverts whose interval differs from theirs.
  return 3 * masterAdverCs * 10 + skewTimeMs(version, priority, masterAdverCs);
}

/** keepalived's effective priority: base + tracker weights, clamped to 1..254 (owner stays 255). */
export function effectivePriority(base: number, trackerSum: number): number {
  if (base === 255) return 255;
  return Math.min(254, Math.max(1, base + trackerSum));
}
