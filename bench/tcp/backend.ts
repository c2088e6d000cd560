/**
 * The benchmark's backend, run as its own process: an echo port (request/response and
 * new-connection loads) and a source port that streams zeros as fast as the reader takes them
 * (bulk throughput). Usage: node backend.js <echoPort> <sourcePort>
 */
import net from "node:net";

const [echoPort, sourcePort] = process.argv.slice(2).map(Number);
const chunk = Buffer.alloc(256 * 1024);

net
  .createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  })
  .listen(echoPort, "127.0.0.1");

net
  .createServer((s) => {
    s.on("error", () => {});
    const pump = () => {
      while (s.writable && s.write(chunk));
    };
    s.on("drain", pump);
    pump();
  })
  .listen(sourcePort, "127.0.0.1");
