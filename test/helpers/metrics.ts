// Reads the Prometheus text format strictly: every line must be a comment
// (HELP/TYPE) or a sample of a family announced before it.

export interface Scrape {
  /** `name{a="b",c="d"}` (labels as written) → value. */
  samples: Map<string, number>;
  types: Map<string, string>;
  helps: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

export function parseMetrics(text: string): Scrape {
  const scrape: Scrape = { samples: new Map(), types: new Map(), helps: new Map() };
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (help) {
      scrape.helps.set(help[1]!, help[2]!);
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (!scrape.helps.has(type[1]!)) throw new Error(`TYPE before HELP: ${line}`);
      scrape.types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    const family = scrape.types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    if (!scrape.types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    const key = name + (sample[2] ?? "");
    if (scrape.samples.has(key)) throw new Error(`duplicate sample ${key}`);
    scrape.samples.set(key, Number(sample[3]!.replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
  }
  return scrape;
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** A sample's value, failing loudly when the series does not exist. */
export function value(s: Scrape, key: string): number {
  const v = s.samples.get(key);
  if (v === undefined) throw new Error(`no sample ${key}`);
  return v;
}
