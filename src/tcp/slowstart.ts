/**
 * slowstart (HAProxy server `slowstart`): after a server comes back up its weight ramps
 * linearly from almost 0 to the full weight over `slowstartMs`. As in HAProxy
 * (server.c, server_recalc_eweight) the ramp is quantised to 1/16 of the weight and rounds up,
 * so a server that just came up still gets a trickle of traffic.
 */
const SCALE = 16;

export function effectiveWeight(weight: number, upSince: number, slowstartMs: number, now: number) {
  if (weight <= 0 || slowstartMs <= 0 || upSince <= 0) return weight;
  const elapsed = now - upSince;
  if (elapsed >= slowstartMs) return weight;
  const scaled = Math.ceil((SCALE * weight * Math.max(elapsed, 1)) / slowstartMs);
  return scaled / SCALE;
}
