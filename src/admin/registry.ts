/**
 * The Prometheus side of the metrics table (src/metrics/table.ts). Subsystems keep plain
 * counters objects and register a *source* per instance (a pool's server, a node, a peer):
 * `registerSource(table, { subsystem, labels }, () => counters)`. Each table entry becomes one
 * prom-client Counter or Gauge whose `collect()` reads every registered source at scrape time,
 * so the hot path never touches prom-client and many instances share one metric family.
 *
 * Names follow https://prometheus.io/docs/practices/naming/: keepcache_<subsystem>_<name>,
 * snake_case, `_total` on counters only, base units (seconds, bytes). prom-client's process
 * metrics keep their standard names (process_*, nodejs_*), so stock dashboards read them.
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
import type { MetricDef, MetricTable } from "../metrics/table.js";
import { mergeExpositions } from "./federate.js";

export type Labels = Record<string, string>;
/** A number, or for an entry with a `label`: label value -> number. */
export type SourceValue = number | Readonly<Record<string, number>>;
export type SourceValues = Readonly<Record<string, SourceValue>>;
/** Reads the current values of one instance; undefined skips it in this scrape. */
export type SourceReader = () => SourceValues | undefined;

export interface SourceOptions {
  /**
   * Middle part of the metric names: keepcache_<subsystem>_<name> (e.g. "node", "proxy_server");
   * "" for process-wide metrics (keepcache_build_info).
   */
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

const PREFIX = "keepcache_";

/**
 * prom-client's process gauges whose names end in `_total`, which the naming rules keep for
 * counters (promtool check metrics flags them); the same figures stay as nodejs_active_handles
 * and nodejs_active_resources.
 */
const NON_COUNTER_TOTALS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** "limitMaxbytes" -> "limit_maxbytes"; snake_case stays as is. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The exposed name of a table entry (without label set). */
export function metricName(
  subsystem: string,
  key: string,
  def: Pick<MetricDef, "type" | "prom">,
): string {
  const middle = subsystem === "" ? "" : `${subsystem}_`;
  const name = `${PREFIX}${middle}${def.prom ?? snakeCase(key)}`;
  return def.type === "counter" ? `${name}_total` : name;
}

export interface MetricsRegistryOptions {
  /** Process metrics (CPU, memory, event loop lag) from prom-client, under their own names. */
  defaultMetrics?: boolean;
}

export class MetricsRegistry {
  readonly prom = new PromRegistry();
  /** By subsystem, then table: a subsystem may have a counters table and a state table. */
  private readonly families = new Map<string, Map<MetricTable, Family>>();
  private readonly histograms = new Map<string, HistogramFamily>();
  /** Other processes' /metrics, merged into ours at each scrape (federate.ts). */
  private readonly remotes = new Set<{ labels: Labels; read: () => Promise<string | undefined> }>();
  /** One read per source per scrape: every collect() of a scrape runs in the same tick. */
  private readonly cache = new Map<Source, SourceValues | undefined>();

  constructor(opts: MetricsRegistryOptions = {}) {
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.prom });
      for (const n of NON_COUNTER_TOTALS) this.prom.removeSingleMetric(n);
    }
  }

  get contentType(): string {
    return this.prom.contentType;
  }

  /** The text exposition format (version 0.0.4), with the remotes' samples merged in. */
  async metrics(): Promise<string> {
    if (this.remotes.size === 0) return this.prom.metrics();
    const [own, ...others] = await Promise.all([
      this.prom.metrics(),
      ...[...this.remotes].map(async (r) => {
        // A remote that is down or slow drops out of this scrape only.
        const text = await r.read().catch(() => undefined);
        return text === undefined ? undefined : { labels: r.labels, text };
      }),
    ]);
    return mergeExpositions(
      own,
      others.filter((o) => o !== undefined),
    );
  }

  /**
   * Adds another process's exposition (its /metrics text), every sample labelled with
   * `labels` (replacing its own label of that name). `read` should time out quickly and
   * resolve undefined for a process that is not running. Returns the undo.
   */
  registerRemote(labels: Labels, read: () => Promise<string | undefined>): () => void {
    const r = { labels, read };
    this.remotes.add(r);
    return () => {
      this.remotes.delete(r);
    };
  }

  /**
   * Adds one instance's values. All sources of a subsystem's table must use the same label
   * names (a Prometheus metric family has one label schema); a subsystem may have several
   * tables (counters, state) whose names do not clash. Returns the undo.
   */
  registerSource(table: MetricTable, opts: SourceOptions, read: SourceReader): () => void {
    const labels = { ...(opts.labels ?? {}) };
    const labelNames = Object.keys(labels).sort();
    let byTable = this.families.get(opts.subsystem);
    if (byTable === undefined) {
      byTable = new Map();
      this.families.set(opts.subsystem, byTable);
    }
    let fam = byTable.get(table);
    if (fam === undefined) {
      fam = { table, labelNames, sources: new Set() };
      byTable.set(table, fam);
      // prom-client refuses a name registered twice: two tables of a subsystem must not clash.
      this.createMetrics(opts.subsystem, fam);
    } else {
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

  private readSource(src: Source): SourceValues | undefined {
    if (this.cache.has(src)) return this.cache.get(src);
    if (this.cache.size === 0) queueMicrotask(() => this.cache.clear());
    let v: SourceValues | undefined;
    try {
      v = src.read();
    } catch {
      // A failing source (e.g. a node being torn down) drops out of this scrape only.
      v = undefined;
    }
    this.cache.set(src, v);
    return v;
  }

  /** Every sample of entry `key` of one source: [labels, value in base units]. */
  private *samples(src: Source, key: string, def: MetricDef): Iterable<[Labels, number]> {
    const v = this.readSource(src)?.[key];
    const scale = def.scale ?? 1;
    const ok = (n: unknown): n is number =>
      typeof n === "number" && Number.isFinite(n) && !(def.omitZero && n === 0);
    if (def.label === undefined) {
      if (ok(v)) yield [src.labels, v * scale];
      return;
    }
    if (v === undefined || typeof v === "number") return;
    for (const [lv, n] of Object.entries(v)) {
      if (ok(n)) yield [{ ...src.labels, [def.label]: lv }, n * scale];
    }
  }

  private createMetrics(subsystem: string, fam: Family): void {
    const entries = Object.entries(fam.table) as [string, MetricDef][];
    // All or nothing: a clash found half way would leave a family half registered.
    for (const [key, def] of entries) {
      const name = metricName(subsystem, key, def);
      if (this.prom.getSingleMetric(name) !== undefined) {
        throw new Error(`metric '${name}' (subsystem '${subsystem}') is already registered`);
      }
    }
    for (const [key, def] of entries) {
      const labelNames = def.label ? [...fam.labelNames, def.label] : fam.labelNames;
      const common = {
        name: metricName(subsystem, key, def),
        help: def.help,
        labelNames,
        registers: [this.prom],
      };
      const samples = (src: Source) => this.samples(src, key, def);
      if (def.type === "counter") {
        new Counter({
          ...common,
          collect(this: Counter) {
            this.reset();
            for (const src of fam.sources) {
              for (const [l, v] of samples(src)) if (v >= 0) this.inc(l, v);
            }
          },
        });
      } else {
        new Gauge({
          ...common,
          collect(this: Gauge) {
            this.reset();
            for (const src of fam.sources) {
              for (const [l, v] of samples(src)) this.set(l, v);
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
