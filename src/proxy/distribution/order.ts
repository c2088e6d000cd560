/**
 * twemproxy sorts each pool's servers by name before building the pool
 * (nc_conf.c conf_validate_server: array_sort(&cp->server, conf_server_name_cmp)), and the
 * server index that modula/random pick is the position in that SORTED array. string_compare
 * (nc_string.c) orders shorter strings first, then bytes as memcmp. So "10.0.0.9:6379" comes
 * before "10.0.0.10:6379" — which decides where every modula key lives.
 */
export function twemproxyNameCompare(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) return x.length > y.length ? 1 : -1;
  return Buffer.compare(x, y);
}

/** Indices of `names` in twemproxy's server order. */
export function twemproxyOrder(names: readonly string[]): number[] {
  return names.map((_, i) => i).sort((i, j) => twemproxyNameCompare(names[i], names[j]));
}
