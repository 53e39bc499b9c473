import type { ConsoleSnapshot } from "../status.ts";
import { sparkline } from "../shared/sparkline.ts";
import { STATUS_FIELDS } from "../shared/status-fields.ts";
import { byId, el } from "./dom.ts";

/** Keeps the server-rendered status current from `/console/events`. */
export function followStatus(): void {
  const state = byId("live-state");
  const source = new EventSource("/console/events");
  source.onopen = () => (state.textContent = "Live: updated every second.");
  source.onmessage = (e) => {
    try {
      render(JSON.parse(e.data) as ConsoleSnapshot);
    } catch {
      // A malformed event is skipped; the next one a second later replaces it.
    }
  };
  source.onerror = () => {
    state.textContent =
      source.readyState === EventSource.CLOSED ? "Live updates stopped (the server refused or went away). Reload to try again." : "Connection lost; reconnecting…";
  };
}

function render(s: ConsoleSnapshot): void {
  for (const field of STATUS_FIELDS) {
    const dd = document.querySelector<HTMLElement>(`[data-field="${field.key}"]`);
    const text = field.text(s);
    if (dd && dd.textContent !== text) dd.textContent = text;
  }
  const spark = sparkline(s.sessionsPerSecond);
  byId("spark-line").setAttribute("points", spark.points);
  byId("spark-summary").textContent = spark.summary;
  const warnings = byId("warnings");
  const items = s.warnings.length === 0 ? [el("li", { class: "none" }, "No warnings.")] : s.warnings.map((w) => el("li", {}, w));
  warnings.replaceChildren(...items);
}
