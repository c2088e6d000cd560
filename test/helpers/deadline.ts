/** Bounded waits for tests: a promise that does not settle in time fails with what was awaited. */
export function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
