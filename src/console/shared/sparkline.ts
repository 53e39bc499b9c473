// The sessions-per-second graph, drawn the same way by the server and the page.

/** The graph's width in seconds (one viewBox unit each) and its height. */
export const SPARK_SECONDS = 300;
export const SPARK_HEIGHT = 40;

export interface Sparkline {
  /** SVG polyline points; newest second at the right edge. */
  points: string;
  /** Plain-language summary for screen readers and the caption. */
  summary: string;
}

export function sparkline(perSecond: readonly number[]): Sparkline {
  const values = perSecond.slice(-SPARK_SECONDS);
  const peak = Math.max(1, ...values);
  const offset = SPARK_SECONDS - values.length;
  const points = values.map((v, i) => `${offset + i},${(SPARK_HEIGHT - (v / peak) * (SPARK_HEIGHT - 2) - 1).toFixed(1)}`).join(" ");
  const total = values.reduce((a, b) => a + b, 0);
  const minutes = Math.max(1, Math.round(values.length / 60));
  const summary = `${total} session${total === 1 ? "" : "s"} started in the last ${minutes} min; peak ${Math.max(0, ...values)}/s`;
  return { points, summary };
}
