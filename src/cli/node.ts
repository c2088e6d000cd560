import { UsageError } from "../errors.js";

export async function main(_argv: string[]): Promise<number> {
  throw new UsageError("keepcache node is being built");
}
