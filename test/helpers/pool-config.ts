/**
 * Proxy configs for e2e tests as plain objects, serialised by the `yaml` library instead of
 * hand-indented string arrays: a pool is `poolConfig(listenPort, servers, options)`, a twemproxy
 * server line is `server(port, weight, name)`, and `configYaml` turns pools (and any other
 * top-level section, such as `admin`) into the nutcracker.yml text keepcache reads.
 */
import { stringify } from "yaml";

/** A twemproxy server line on loopback: "127.0.0.1:PORT:WEIGHT [NAME]" (nc_conf.c). */
export function server(port: number, weight = 1, name?: string): string {
  return `127.0.0.1:${port}:${weight}${name === undefined ? "" : ` ${name}`}`;
}

/** A pool listening on 127.0.0.1:`listen`; `options` holds any other pool key (hash, redis...). */
export function poolConfig(
  listen: number,
  servers: readonly unknown[],
  options: Record<string, unknown> = {},
): Record<string, unknown> {
  return { listen: `127.0.0.1:${listen}`, ...options, servers };
}

/** The config file text for `sections` (pool names → pools, plus e.g. `admin`). */
export function configYaml(sections: Record<string, unknown>): string {
  return stringify(sections);
}
