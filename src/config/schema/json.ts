/**
 * The config schema as JSON Schema (draft 2020-12, zod's z.toJSONSchema over the input side):
 * shipped as schema/keepcache.schema.json for editors, rendered into docs/configuration.md, and
 * walked here for the keys allowed at a path ("did you mean" on an unknown key).
 */
import { z } from "zod";
import { configSchema } from "./index.js";

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  [k: string]: unknown;
};

let cached: JsonSchema | undefined;

/** The whole file's schema. Transforms (e.g. `workers`) show their accepted input as `{}`. */
export function configJsonSchema(): JsonSchema {
  cached ??= z.toJSONSchema(configSchema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return cached;
}

/** The alternatives a node stands for: itself, or each branch of anyOf / oneOf / allOf. */
export function branches(node: JsonSchema | undefined, root: JsonSchema): JsonSchema[] {
  if (!node) return [];
  if (node.$ref?.startsWith("#/$defs/"))
    return branches(root.$defs?.[node.$ref.slice("#/$defs/".length)], root);
  const alts = node.anyOf ?? node.oneOf ?? node.allOf;
  if (alts) return alts.flatMap((a) => branches(a, root));
  return [node];
}

/** The mapping keys allowed at `path` (a YAML key path), over every branch that fits it. */
export function keysAt(path: readonly PropertyKey[]): string[] {
  const root = configJsonSchema();
  let nodes = branches(root, root);
  for (const k of path) {
    nodes = nodes.flatMap((n) => {
      if (typeof k === "number") return branches(n.items, root);
      const prop = n.properties?.[String(k)];
      if (prop) return branches(prop, root);
      return typeof n.additionalProperties === "object"
        ? branches(n.additionalProperties, root)
        : [];
    });
  }
  return [...new Set(nodes.flatMap((n) => Object.keys(n.properties ?? {})))];
}
