// The dependency rules of src/, checked with dpdm on the TypeScript sources (type imports and
// dynamic imports count: a type-only cycle still means two files cannot be understood apart).
//   1. No import cycles.
//   2. No file under src/proxy/ imports src/failover/, src/admin/ or src/cli/: the proxy is the
//      data plane; control planes and front ends are built around it and injected into it.
// The one known exception to rule 1 is the proxy core: the pool, its control plane, servers,
// connections, clients and replica sets still import each other's types, and the Redis set
// controller its builtin-failover and Sentinel parts. They are listed below, by name, until
// the proxy core redesign (docs/architecture.md, "Dependencies") removes them. Any cycle or
// import not listed fails, and so does a listed one that no longer exists, so the list only
// ever shrinks.
import { parseCircular, parseDependencyTree } from "dpdm";

/** Import cycles of the proxy core, each as dpdm reports it (a file path, one arrow per edge). */
const KNOWN_CORE_CYCLES = [
  "src/failover/controller.ts -> src/failover/builtin.ts",
  "src/failover/controller.ts -> src/failover/sentinel.ts",
  "src/proxy/client.ts -> src/proxy/dedicated.ts",
  "src/proxy/dedicated.ts -> src/proxy/backend.ts",
  "src/proxy/dedicated.ts -> src/proxy/target.ts -> src/proxy/replicaset/set.ts -> src/proxy/server.ts",
  "src/proxy/client.ts -> src/proxy/dedicated.ts -> src/proxy/target.ts -> src/proxy/replicaset/set.ts -> src/proxy/server.ts -> src/proxy/pool.ts",
  "src/proxy/pool.ts -> src/proxy/client.ts -> src/proxy/dedicated.ts -> src/proxy/target.ts -> src/proxy/replicaset/set.ts -> src/proxy/replicaset/fanout.ts -> src/proxy/replicaset/port.ts",
  "src/proxy/pool.ts -> src/proxy/client.ts -> src/proxy/dedicated.ts -> src/proxy/target.ts -> src/proxy/replicaset/set.ts",
  "src/proxy/pool.ts -> src/proxy/client.ts",
  "src/proxy/pool.ts -> src/proxy/control.ts",
];

/** Imports from src/proxy/ into the control planes, as "importer -> imported". */
const KNOWN_CORE_IMPORTS = [];

const FORBIDDEN_FROM_PROXY = /^src\/(failover|admin|cli)\//;

/** A cycle as one string, rotated to start at its smallest file so a rotation compares equal. */
function cycleKey(files) {
  let start = 0;
  for (let i = 1; i < files.length; i++) if (files[i] < files[start]) start = i;
  return [...files.slice(start), ...files.slice(0, start)].join(" -> ");
}

const tree = await parseDependencyTree("src/**/*.ts", {
  context: process.cwd(),
  tsconfig: "tsconfig.json",
  transform: false,
  skipDynamicImports: false,
});

const problems = [];
const compare = (what, found, known) => {
  const knownSet = new Set(known);
  for (const f of found) if (!knownSet.has(f)) problems.push(`new ${what}: ${f}`);
  const foundSet = new Set(found);
  for (const k of known)
    if (!foundSet.has(k))
      problems.push(
        `${what} listed as known but gone (delete it from scripts/check-deps.mjs): ${k}`,
      );
};

const cycles = [...new Set(parseCircular(tree).map(cycleKey))];
compare(
  "import cycle",
  cycles,
  KNOWN_CORE_CYCLES.map((c) => cycleKey(c.split(" -> "))),
);

const proxyImports = [];
for (const [file, deps] of Object.entries(tree)) {
  if (!file.startsWith("src/proxy/") || !deps) continue;
  for (const d of deps)
    if (d.id && FORBIDDEN_FROM_PROXY.test(d.id)) proxyImports.push(`${file} -> ${d.id}`);
}
compare("import from src/proxy/ into failover/admin/cli", proxyImports, KNOWN_CORE_IMPORTS);

const files = Object.keys(tree).filter((f) => f.startsWith("src/")).length;
if (problems.length > 0) {
  console.error(`check-deps: ${problems.length} problem(s) in ${files} files:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `check-deps: ${files} files; no import cycles or proxy imports beyond the ${KNOWN_CORE_CYCLES.length} cycles and ${KNOWN_CORE_IMPORTS.length} import of the proxy core`,
);
