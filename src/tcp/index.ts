/** The TCP balancer's public surface. */
export { ALGORITHMS, type AlgorithmName, createAlgorithm } from "./algorithms/index.js";
export {
  type ReloadSummary,
  type ServiceConfigs,
  TcpBalancer,
  type TcpBalancerOptions,
} from "./balancer.js";
export type { ServerCounters, ServiceCounters } from "./counters.js";
export type { LiveCounters } from "./links.js";
export { AffinityTable } from "./persistence.js";
export { proxyHeader, proxyV1, proxyV2 } from "./proxy-protocol.js";
export { type HealthReporter, TcpService, type TcpServiceOptions } from "./service.js";
export { effectiveWeight } from "./slowstart.js";
export { buildSnapshot, type RoutingSnapshot, type ServerView } from "./snapshot.js";
