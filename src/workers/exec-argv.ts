/**
 * The node flags a forked worker inherits from its primary (forked.ts).
 */

/** Flags that take the next argument as their value. */
const WITH_VALUE = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);
/** Flags kept as one argument (`--flag` or `--flag=value`). */
const KEPT =
  /^--(import|require|loader|experimental-loader|conditions|max-old-space-size|max-semi-space-size|stack-size|enable-source-maps|no-warnings|no-deprecation)(=|$)/;

/**
 * The node flags a worker inherits: module loaders (tsx in development) and memory settings.
 * Everything else is dropped, with its value: the test runner's `--test-name-pattern X`,
 * `--inspect`, `--watch`, `--cpu-prof` belong to the primary.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (WITH_VALUE.has(a) && i + 1 < argv.length) out.push(a, argv[++i]);
    else if (KEPT.test(a)) out.push(a);
  }
  return out;
}
