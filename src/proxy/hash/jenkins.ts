/**
 * Bob Jenkins' lookup3 `hashlittle` as in twemproxy src/hashkit/nc_jenkins.c (initval 13). The
 * C code has aligned 32/16-bit read paths; on little-endian machines they compute the same as
 * the byte-at-a-time path, which is the one written here.
 */
function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function hashJenkins(key: Buffer, start: number, end: number): number {
  let len = end - start;
  let a = (0xdeadbeef + len + 13) | 0;
  let b = a;
  let c = a;
  let p = start;
  while (len > 12) {
    a = (a + (key[p] | (key[p + 1] << 8) | (key[p + 2] << 16) | (key[p + 3] << 24))) | 0;
    b = (b + (key[p + 4] | (key[p + 5] << 8) | (key[p + 6] << 16) | (key[p + 7] << 24))) | 0;
    c = (c + (key[p + 8] | (key[p + 9] << 8) | (key[p + 10] << 16) | (key[p + 11] << 24))) | 0;
    // mix(a,b,c)
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    len -= 12;
    p += 12;
  }
  if (len === 0) return c >>> 0;
  // Last block: the C switch falls through from len down to 1, adding byte i at its lane.
  for (let i = len - 1; i >= 0; i--) {
    const v = key[p + i] << ((i & 3) * 8);
    if (i >= 8) c = (c + v) | 0;
    else if (i >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  // final(a,b,c)
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}
