/**
 * keepcache's TCP balancer as its own process for the benchmark (so the load generator does not
 * share its event loop). Usage: node lb-child.js <listenPort> <backendPort> [workers]
 * `workers` counts data-plane processes, this one included (HAProxy's nbthread).
 */
import { TcpBalancer } from "../../src/tcp/balancer.js";
import type { TcpServiceShape } from "../../src/tcp/snapshot.js";

const [listen, backend] = process.argv.slice(2, 4).map(Number);
const workers = Number(process.argv[4] ?? 1);
const cfg = {
  listen: { kind: "tcp", host: "127.0.0.1", port: listen },
  balance: "rr",
  persistence_timeout: 0,
  inhibit_on_failure: false,
  maxconn: 0,
  queue_timeout: 5000,
  slowstart: 0,
  proxy_protocol: "none",
  connect_timeout: 3000,
  backlog: 1024,
  servers: [
    { address: { kind: "tcp", host: "127.0.0.1", port: backend }, weight: 1, backup: false },
  ],
} as TcpServiceShape;
const lb = new TcpBalancer({ bench: cfg }, { workers });
await lb.start();
await lb.workersServing("bench");
process.on("SIGTERM", () => void lb.stop().then(() => process.exit(0)));
