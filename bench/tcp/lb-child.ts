/**
 * keepcache's TCP balancer as its own process for the benchmark (so the load generator does not
 * share its event loop). Usage: node lb-child.js <listenPort> <backendPort> [workers]
 * `workers` counts data-plane processes, this one included (HAProxy's nbthread).
 */
import { tcpServiceSchema } from "../../src/config/schema/tcp.js";
import { TcpBalancer } from "../../src/tcp/balancer.js";

const [listen, backend] = process.argv.slice(2, 4).map(Number);
const workers = Number(process.argv[4] ?? 1);
// Through the config schema, as `keepcache run` builds it: the product's defaults.
const cfg = tcpServiceSchema.parse({
  listen: `127.0.0.1:${listen}`,
  balance: "rr",
  backlog: 1024,
  servers: [{ address: `127.0.0.1:${backend}` }],
});
const lb = new TcpBalancer({ bench: cfg }, { workers });
await lb.start();
await lb.workersServing("bench");
process.on("SIGTERM", () => void lb.stop().then(() => process.exit(0)));
