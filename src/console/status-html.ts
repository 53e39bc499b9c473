import { sparkline, SPARK_HEIGHT, SPARK_SECONDS } from "./shared/sparkline.ts";
import { STATUS_FIELDS } from "./shared/status-fields.ts";
import type { ConsoleSnapshot } from "./status.ts";

/**
 * The status block, rendered on the server so it reads without JavaScript; the
 * page's script then updates the same elements (by `data-field`) live.
 */
export function renderStatus(s: ConsoleSnapshot): string {
  const items = STATUS_FIELDS.map((f) => `<div><dt>${escapeHtml(f.label)}</dt><dd data-field="${f.key}">${escapeHtml(f.text(s))}</dd></div>`).join("");
  const spark = sparkline(s.sessionsPerSecond);
  const warnings = s.warnings.length === 0 ? `<li class="none">No warnings.</li>` : s.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("");
  return `<dl class="stats">${items}</dl>
<figure class="spark">
<svg id="spark" viewBox="0 0 ${SPARK_SECONDS} ${SPARK_HEIGHT}" preserveAspectRatio="none" role="img" aria-labelledby="spark-caption"><polyline id="spark-line" points="${spark.points}"/></svg>
<figcaption id="spark-caption">Sessions per second: <span id="spark-summary">${escapeHtml(spark.summary)}</span></figcaption>
</figure>
<h3 id="warnings-heading">Warnings</h3>
<ul id="warnings" aria-labelledby="warnings-heading">${warnings}</ul>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
