import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../../src/metrics/registry.ts";
import { parseMetrics, value } from "../helpers/metrics.ts";

describe("metrics registry", () => {
  test("counters, gauges and histograms in the text format, every series from the start", () => {
    const m = new MetricsRegistry();
    const frames = m.counter({ name: "t_frames_total", help: "Frames.", labels: { type: ["a", "b"] } }).byLabel();
    const depth = m.gauge({ name: "t_depth", help: "Depth." }).with();
    let outside = 7;
    m.gauge({ name: "t_outside", help: "Read at scrape time." }).with().track(() => outside);
    const latency = m.histogram({ name: "t_latency_seconds", help: "Latency.", buckets: [0.1, 1] }).with();
    frames.a.inc();
    frames.a.inc(2);
    depth.set(5);
    depth.dec();
    latency.observe(0.05);
    latency.observe(0.5);
    latency.observe(0.1);
    latency.observe(30);
    outside = 9;
    const text = m.expose();
    expect(text).toStartWith("# HELP t_frames_total Frames.\n# TYPE t_frames_total counter\n");
    const s = parseMetrics(text);
    expect(value(s, 't_frames_total{type="a"}')).toBe(3);
    expect(value(s, 't_frames_total{type="b"}')).toBe(0);
    expect(value(s, "t_depth")).toBe(4);
    expect(value(s, "t_outside")).toBe(9);
    // Buckets are cumulative and `le` is inclusive.
    expect(value(s, 't_latency_seconds_bucket{le="0.1"}')).toBe(2);
    expect(value(s, 't_latency_seconds_bucket{le="1"}')).toBe(3);
    expect(value(s, 't_latency_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(value(s, "t_latency_seconds_count")).toBe(4);
    expect(value(s, "t_latency_seconds_sum")).toBeCloseTo(30.65);
    expect(s.types.get("t_latency_seconds")).toBe("histogram");
  });

  test("label values and help text are escaped", () => {
    const m = new MetricsRegistry();
    m.counter({ name: "t_odd_total", help: 'Back\\slash and\nnewline "quoted".', labels: { v: ['a"b\\c\nd'] } }).with({ v: 'a"b\\c\nd' }).inc();
    const text = m.expose();
    expect(text).toContain('# HELP t_odd_total Back\\\\slash and\\nnewline "quoted".\n');
    expect(text).toContain('t_odd_total{v="a\\"b\\\\c\\nd"} 1\n');
    expect(parseMetrics(text).samples.size).toBe(1);
  });

  test("label sets are bounded: undeclared values, bad names and twins are refused", () => {
    const m = new MetricsRegistry();
    const f = m.counter({ name: "t_x_total", help: "X.", labels: { kind: ["one", "two"] } });
    expect(() => f.with({ kind: "three" as "one" })).toThrow(/declare every label value/);
    expect(() => m.counter({ name: "t_x_total", help: "again" })).toThrow(/twice/);
    expect(() => m.counter({ name: "t_no_suffix", help: "X." })).toThrow(/_total/);
    expect(() => m.gauge({ name: "bad-name", help: "X." })).toThrow(/bad metric name/);
    expect(() => m.gauge({ name: "t_g", help: "X.", labels: { le: ["1"] } })).toThrow(/bad label name/);
    expect(() => m.gauge({ name: "t_h", help: "X.", labels: { k: [] } })).toThrow(/distinct values/);
    expect(() => m.histogram({ name: "t_hist", help: "X.", buckets: [1, 1] })).toThrow(/ascending/);
  });
});
