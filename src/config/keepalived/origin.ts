/**
 * Where each value of an imported tree came from. The mappers record, for a key of an object
 * (or an index of a list) they fill, the keepalived.conf statement it was read from; a schema
 * problem at `vrrp.instances.VI_1.priority` is then reported at the file and line of that
 * `priority` statement, not at a line of the YAML the import would print.
 */
import type { Stmt } from "./parse.js";

const origins = new WeakMap<object, Map<PropertyKey, Stmt>>();

/** Records that `target[key]` was read from `from`. */
export function mark(target: object, key: PropertyKey, from: Stmt): void {
  let m = origins.get(target);
  if (!m) {
    m = new Map();
    origins.set(target, m);
  }
  m.set(key, from);
}

/** Records that `target[key]` came from where `source[sourceKey]` did, if that is known. */
export function markAs(
  target: object,
  key: PropertyKey,
  source: object,
  sourceKey: PropertyKey,
): void {
  const from = origins.get(source)?.get(sourceKey);
  if (from) mark(target, key, from);
}

/** `target[key] = value`, read from `from`. */
export function put<T>(target: object, key: PropertyKey, value: T, from: Stmt): T {
  (target as Record<PropertyKey, unknown>)[key] = value;
  mark(target, key, from);
  return value;
}

/** `target[key]` = one item per statement of `from`'s block, each marked with its own line. */
export function putEach<T>(target: object, key: string, from: Stmt, fn: (s: Stmt) => T): T[] {
  const stmts = from.block ?? [];
  const items = stmts.map(fn);
  stmts.forEach((s, i) => {
    mark(items, i, s);
  });
  return put(target, key, items, from);
}

/** The statements along `path` in the imported tree, outermost first, as deep as recorded. */
export function originOf(root: unknown, path: readonly PropertyKey[]): Stmt[] {
  const chain: Stmt[] = [];
  let node = root;
  for (const k of path) {
    if (node === null || typeof node !== "object") break;
    const s = origins.get(node)?.get(k);
    if (s && s !== chain.at(-1)) chain.push(s);
    node = (node as Record<PropertyKey, unknown>)[k];
  }
  return chain;
}

/** `vrrp_instance VI_1 > priority`: the statements as the user wrote their keywords. */
export function keywordPath(chain: readonly Stmt[]): string {
  return chain
    .map((s) => (s.block && s.args.length ? `${s.key} ${s.args.join(" ")}` : s.key))
    .join(" > ");
}
