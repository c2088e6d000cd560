/**
 * The Prometheus side of the metrics table (src/metrics/table.ts). Subsystems keep plain
 * counters objects and register a *source* per instance (a pool's server, a node, a peer):
 * `registerSource(table, { subsystem, labels }, () => counters)`. Each table entry becomes one
 * prom-client Counter or Gauge whose `collect()` reads every registered source at scrape time,
 * so the hot path never touches prom-client and many instances share one metric family.
 *
 * Names follow https://prometheus.io/docs/practices/naming/: keepcache_<subsystem>_<name>,
 * snake_case, `_total` on counters, base units (seconds, bytes).
 */
import assert from "node:assert";
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  type Metric,
  Registry as PromRegistry,
} from "prom-client";
import type { Histogram } from "../metrics/histogram.js";
import type { MetricTable } from "../metrics/table.js";

export type Labels = Record<string, string>;
/** Reads the current values of one instance; undefined skips it in this scrape. */
export type SourceReader = () => Readonly<Record<string, number>> | undefined;

export interface SourceOptions {
  /** Middle part of the metric names: keepcache_<subsystem>_<name> (e.g. "node", "proxy_server"). */
  subsystem: string;
  /** Labels that tell this instance from others of the same subsystem (e.g. {pool, server}). */
  labels?: Labels;
}

interface Source {
  labels: Labels;
  read: SourceReader;
}

interface Family {
  table: MetricTable;
  labelNames: string[];
  sources: Set<Source>;
}

/**
 * Table entries whose unit is not the Prometheus base unit: twemproxy reports
 * server_ejected_at in microseconds (nc_stats.c stats_server_set_ts uses nc_usec_now()).
 */
const UNIT_OVERRIDES: Record<string, { suffix: string; scale: number }> = {
  server_ejected_at: { suffix: "_seconds", scale: 1e-6 },
};

const PREFIX = "keepcache_";

/** "limitMaxbytes" -> "limit_maxbytes"; snake_case stays as is. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The exposed name of a table entry (without label set). */
export function metricName(subsystem: string, key: string, type: "counter" | "gauge"): string {
  let name = `${PREFIX}${subsystem}_${snakeCase(key)}`;
  const unit = UNIT_OVERRIDES[key];
  if (unit) name += unit.suffix;
  if (type === "counter" && !name.endsWith("_total")) name += "_total";
  return name;
}

export interface MetricsRegistryOptions {
  /** Process metrics (CPU, memory, event loop lag) from prom-client, prefixed keepcache_. */
  defaultMetrics?: boolean;
}

export class MetricsRegistry {
  readonly prom = new PromRegistry();
  private readonly families = new Map<string, Family>();
  private readonly histograms = new Map<string, HistogramFamily>();
  /** One read per source per scrape: every collect() of a scrape runs in the same tick. */
  private readonly cache = new Map<Source, Readonly<Record<string, number>> | undefined>();

  constructor(opts: MetricsRegistryOptions = {}) {
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.prom, prefix: PREFIX });
    }
  }

  get contentType(): string {
    return this.prom.contentType;
  }

  /** The text exposition format (version 0.0.4). */
  metrics(): Promise<string> {
    return this.prom.metrics();
  }

  /**
   * Adds one instance's counters. All sources of a subsystem must use the same table and the
   * same label names (a Prometheus metric family has one label schema). Returns the undo.
   */
  registerSource(table: MetricTable, opts: SourceOptions, read: SourceReader): () => void {
    const labels = { ...(opts.labels ?? {}) };
    const labelNames = Object.keys(labels).sort();
    let fam = this.families.get(opts.subsystem);
    if (fam === undefined) {
      fam = { table, labelNames, sources: new Set() };
      this.families.set(opts.subsystem, fam);
      this.createMetrics(opts.subsystem, fam);
    } else {
      if (fam.table !== table) {
        throw new Error(`metrics subsystem '${opts.subsystem}' is already bound to another table`);
      }
      if (fam.labelNames.join(",") !== labelNames.join(",")) {
        throw new Error(
          `metrics subsystem '${opts.subsystem}' has labels [${fam.labelNames}], got [${labelNames}]`,
        );
      }
    }
    const src: Source = { labels, read };
    fam.sources.add(src);
    const owner = fam;
    return () => {
      owner.sources.delete(src);
    };
  }

  /**
   * Exposes a hot-path Histogram (milliseconds) as a Prometheus histogram in seconds:
   * keepcache_<subsystem>_<name>_seconds{...labels, le}. Returns the undo.
   */
  registerHistogram(
    opts: { subsystem: string; name: string; help: string; labels?: Labels },
    hist: Histogram,
  ): () => void {
    const full = `${PREFIX}${opts.subsystem}_${opts.name}_seconds`;
    const labels = { ...(opts.labels ?? {}) };
    assert(!("le" in labels), "'le' is reserved for histogram buckets");
    let fam = this.histograms.get(full);
    if (fam === undefined) {
      fam = new HistogramFamily(full, opts.help, Object.keys(labels).sort());
      this.histograms.set(full, fam);
      this.prom.registerMetric(fam as unknown as Metric);
    } else if (fam.labelNames.join(",") !== Object.keys(labels).sort().join(",")) {
      throw new Error(`histogram '${full}' has labels [${fam.labelNames}]`);
    }
    const entry = { labels, hist };
    fam.entries.add(entry);
    const owner = fam;
    return () => {
      owner.entries.delete(entry);
    };
  }

  private readSource(src: Source): Readonly<Record<string, number>> | undefined {
    if (this.cache.has(src)) return this.cache.get(src);
    if (this.cache.size === 0) queueMicrotask(() => this.cache.clear());
    let v: Readonly<Record<string, number>> | undefined;
    try {
      v = src.read();
    } catch {
      // A failing source (e.g. a node being torn down) drops out of this scrape only.
      v = undefined;
    }
    this.cache.set(src, v);
    return v;
  }

  private createMetrics(subsystem: string, fam: Family): void {
    for (const [key, def] of Object.entries(fam.table)) {
      const name = metricName(subsystem, key, def.type);
      const scale = UNIT_OVERRIDES[key]?.scale ?? 1;
      const sample = (src: Source): number | undefined => {
        const v = this.readSource(src)?.[key];
        return typeof v === "number" && Number.isFinite(v) ? v * scale : undefined;
      };
      const common = { name, help: def.help, labelNames: fam.labelNames, registers: [this.prom] };
      if (def.type === "counter") {
        new Counter({
          ...common,
          collect(this: Counter) {
            this.reset();
            for (const src of fam.sources) {
              const v = sample(src);
              if (v !== undefined && v >= 0) this.inc(src.labels, v);
            }
          },
        });
      } else {
        new Gauge({
          ...common,
          collect(this: Gauge) {
            this.reset();
            for (const src of fam.sources) {
              const v = sample(src);
              if (v !== undefined) this.set(src.labels, v);
            }
          },
        });
      }
    }
  }
}

/** Formats a bucket bound in seconds as Prometheus writes `le` values. */
function leValue(boundMs: number): string {
  return String(Number((boundMs / 1000).toPrecision(12)));
}

/**
 * A prom-client compatible metric object (name, help, type, get()) that renders registered
 * Histograms; the registry formats its `values` like any built-in metric.
 */
class HistogramFamily {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly entries = new Set<{ labels: Labels; hist: Histogram }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: string[],
  ) {}

  async get() {
    const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
    for (const { labels, hist } of this.entries) {
      const s = hist.snapshot();
      for (let i = 0; i < s.cumulative.length; i++) {
        const le = i < s.bounds.length ? leValue(s.bounds[i]) : "+Inf";
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...labels, le },
          value: s.cumulative[i],
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum / 1000 });
      values.push({ metricName: `${this.name}_count`, labels, value: s.count });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}
