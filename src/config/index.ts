/**
 * Configuration: load a YAML file (keepcache's own, or any twemproxy nutcracker.yml as-is),
 * validate it, and hand out typed, defaulted sections. See schema/ for the shapes.
 */
export { ConfigErrors, ConfigReadError, formatPath, loadConfig, parseConfig } from "./load.js";
export type {
  AdminConfig,
  Config,
  DistributionName,
  Endpoint,
  HashName,
  HealthCheckConfig,
  HealthCheckOverride,
  LogConfig,
  PoolConfig,
  PoolHealthConfig,
  PoolServer,
  ReplicaMemberConfig,
  ReplicaSetConfig,
  SentinelConfig,
  ServerConfig,
  TcpServerConfig,
  TcpServiceConfig,
  TlsConfig,
  VrrpConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
} from "./schema/index.js";
export { DISTRIBUTIONS, HASHES, parseServerString } from "./schema/pool.js";
