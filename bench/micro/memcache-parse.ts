/**
 * Micro-benchmark (not run by tests): parsed requests per second for a pipelined 90/10 get/set
 * mix with 100-byte values, fed in 16 KiB chunks as a socket would deliver them.
 * Run: npx tsx bench/micro/memcache-parse.ts
 */
import { ParseStatus, TextRequest, TextRequestParser } from "../../src/protocol/memcache/text.js";

const value = "v".repeat(100);
const parts: string[] = [];
for (let i = 0; i < 10_000; i++) {
  const key = `key:${i % 1000}`;
  parts.push(i % 10 === 0 ? `set ${key} 0 0 100\r\n${value}\r\n` : `get ${key}\r\n`);
}
const stream = Buffer.from(parts.join(""));
const CHUNK = 16 * 1024;

function pass(): number {
  const p = new TextRequestParser();
  const r = new TextRequest();
  let n = 0;
  for (let off = 0; off < stream.length; off += CHUNK) {
    p.feed(stream.subarray(off, off + CHUNK));
    while (p.next(r) === ParseStatus.Ok) n++;
  }
  return n;
}

for (let i = 0; i < 20; i++) pass(); // warm up
const rounds = 100;
const t0 = process.hrtime.bigint();
let total = 0;
for (let i = 0; i < rounds; i++) total += pass();
const sec = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `memcache text parse: ${total} requests in ${sec.toFixed(3)} s = ${Math.round(total / sec).toLocaleString()} req/s (${((stream.length * rounds) / sec / 1e6).toFixed(1)} MB/s)`,
);
