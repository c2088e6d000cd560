/**
 * Ways to cut one input into chunks for replay tests: whole, byte by byte, and split in two
 * at every offset. (Local to the RESP tests: test/helpers/split.ts did not exist yet.)
 */
export function* chunkings(input: Buffer): Generator<{ name: string; chunks: Buffer[] }> {
  yield { name: "whole", chunks: [input] };
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  yield { name: "byte by byte", chunks: bytes };
  for (let k = 1; k < input.length; k++) {
    yield { name: `split at ${k}`, chunks: [input.subarray(0, k), input.subarray(k)] };
  }
}
