// The dependency rules of src/, checked with dpdm on the TypeScript sources (type imports and
// dynamic imports count: a type-only cycle still means two files cannot be understood apart).
//   1. No import cycles.
//   2. No file under src/proxy/ imports src/failover/, src/admin/ or src/cli/: the proxy is the
//      data plane; control planes and front ends are built around it and injected into it.
// Where two files need each other, the lower one declares the narrow interface it needs and
// the other implements it (docs/architecture.md, "Dependencies").
import { parseCircular, parseDependencyTree } from "dpdm";

const FORBIDDEN_FROM_PROXY = /^src\/(failover|admin|cli)\//;

const tree = await parseDependencyTree("src/**/*.ts", {
  context: process.cwd(),
  tsconfig: "tsconfig.json",
  transform: false,
  skipDynamicImports: false,
});

const problems = [];
for (const cycle of parseCircular(tree)) problems.push(`import cycle: ${cycle.join(" -> ")}`);
for (const [file, deps] of Object.entries(tree)) {
  if (!file.startsWith("src/proxy/") || !deps) continue;
  for (const d of deps)
    if (d.id && FORBIDDEN_FROM_PROXY.test(d.id))
      problems.push(`import from src/proxy/ into failover/admin/cli: ${file} -> ${d.id}`);
}

const files = Object.keys(tree).filter((f) => f.startsWith("src/")).length;
if (problems.length > 0) {
  console.error(`check-deps: ${problems.length} problem(s) in ${files} files:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-deps: ${files} files; no import cycles, no proxy imports of failover/admin/cli`);
