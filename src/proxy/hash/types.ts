/**
 * A key hash as twemproxy's hashkit defines them (src/hashkit/nc_hashkit.h `hash_t`): the key
 * is the bytes key[start..end), the result a uint32. Implementations reproduce twemproxy's
 * output bit for bit, quirks included, because the result picks the shard a key lives on.
 */
export type HashFn = (key: Buffer, start: number, end: number) => number;

/**
 * C `char` is signed on the x86/arm64 builds users run, and several hashkit functions widen it
 * with `(uint32_t)key[i]`, which sign-extends bytes >= 0x80 to 0xFFFFFFxx. Returns that int32.
 */
export function signedByte(b: number): number {
  return (b << 24) >> 24;
}
