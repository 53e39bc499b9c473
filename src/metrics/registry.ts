// Counters, gauges and histograms with bounded label sets, exposed in the
// Prometheus text format 0.0.4. Every label's values are declared up front and
// each series is created at declaration, so a hot path holds its series object
// and pays one number update: no key building, no map lookup.

import { writeFamily } from "./exposition.ts";

/** Label names and every value each may take. */
export type LabelSpec = Readonly<Record<string, readonly string[]>>;
export type LabelValues<L extends LabelSpec> = { readonly [K in keyof L]: L[K][number] };
type WithArgs<L extends LabelSpec> = keyof L extends never ? [] : [values: LabelValues<L>];

export type MetricType = "counter" | "gauge" | "histogram";

/** A value that only goes up. `track` reads it from elsewhere at scrape time instead. */
export class Counter {
  value = 0;
  read?: () => number;
  inc(n = 1): void {
    this.value += n;
  }
  track(read: () => number): this {
    this.read = read;
    return this;
  }
  current(): number {
    return this.read ? this.read() : this.value;
  }
}

/** A value that goes up and down, set directly or read at scrape time (`track`). */
export class Gauge extends Counter {
  set(v: number): void {
    this.value = v;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** Observations counted into fixed buckets (upper bounds, ascending). */
export class Histogram {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export interface Series<C> {
  /** Label pairs in declaration order. */
  readonly labels: readonly (readonly [string, string])[];
  readonly metric: C;
}

/** One metric name and all its series. */
export class Family<C, L extends LabelSpec = LabelSpec> {
  readonly series: Series<C>[] = [];
  private readonly byKey = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly labelSpec: L,
    make: () => C,
  ) {
    for (const labels of combinations(labelSpec)) {
      const metric = make();
      this.series.push({ labels, metric });
      this.byKey.set(labels.map(([, v]) => v).join("\u0000"), metric);
    }
  }

  /** The series for these label values; look it up once (at setup) and keep it. */
  with(...args: WithArgs<L>): C {
    const values = (args[0] ?? {}) as Record<string, string>;
    const key = Object.keys(this.labelSpec).map((k) => values[k]).join("\u0000");
    const metric = this.byKey.get(key);
    if (metric === undefined) throw new Error(`${this.name}: no series ${JSON.stringify(values)} (declare every label value)`);
    return metric;
  }

  /** Each series by the value of the family's one label, e.g. `frames.byLabel().offer`. */
  byLabel(): Record<L[keyof L][number], C> {
    const names = Object.keys(this.labelSpec);
    if (names.length !== 1) throw new Error(`${this.name}: byLabel needs exactly one label`);
    return Object.fromEntries(this.series.map((s) => [s.labels[0]![1], s.metric])) as Record<L[keyof L][number], C>;
  }
}

interface Spec<L extends LabelSpec> {
  name: string;
  help: string;
  labels?: L;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Where metrics are declared and scraped. A feature adds its own with one line:
 * `const tunnels = metrics.gauge({ name: "gemmapod_signal_tunnels", help: "…" }).with().track(() => n)`.
 */
export class MetricsRegistry {
  private readonly families: Family<unknown>[] = [];
  private readonly names = new Set<string>();

  counter<L extends LabelSpec = {}>(spec: Spec<L>): Family<Counter, L> {
    return this.add(spec, "counter", () => new Counter());
  }

  gauge<L extends LabelSpec = {}>(spec: Spec<L>): Family<Gauge, L> {
    return this.add(spec, "gauge", () => new Gauge());
  }

  histogram<L extends LabelSpec = {}>(spec: Spec<L> & { buckets: readonly number[] }): Family<Histogram, L> {
    const { buckets } = spec;
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`${spec.name}: buckets must be finite and ascending`);
    }
    return this.add(spec, "histogram", () => new Histogram(buckets));
  }

  /** The text exposition format 0.0.4. */
  expose(): string {
    const out: string[] = [];
    for (const family of this.families) writeFamily(out, family as Family<Counter | Histogram>);
    return out.join("");
  }

  private add<C, L extends LabelSpec>(spec: Spec<L>, type: MetricType, make: () => C): Family<C, L> {
    const { name, help } = spec;
    const labels = (spec.labels ?? {}) as L;
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${JSON.stringify(name)}`);
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    if (this.names.has(name)) throw new Error(`metric ${name} declared twice`);
    for (const [label, values] of Object.entries(labels)) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") throw new Error(`${name}: bad label name ${JSON.stringify(label)}`);
      if (values.length === 0 || new Set(values).size !== values.length) throw new Error(`${name}: label ${label} needs distinct values`);
    }
    const family = new Family(name, help, type, labels, make);
    this.names.add(name);
    this.families.push(family as Family<unknown>);
    return family;
  }
}

/** Every combination of the declared label values, in declaration order. */
function combinations(spec: LabelSpec): (readonly [string, string])[][] {
  let rows: (readonly [string, string])[][] = [[]];
  for (const [label, values] of Object.entries(spec)) {
    rows = rows.flatMap((row) => values.map((v) => [...row, [label, v] as const]));
  }
  return rows;
}
