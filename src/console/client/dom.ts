// Small DOM helpers: every text goes in through textContent, never as HTML.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

type Child = Node | string;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A definition list from label/value pairs. */
export function details(rows: [string, Child][]): HTMLDListElement {
  return el("dl", {}, ...rows.flatMap(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]));
}

/** Replaces what a result area shows with a single message. */
export function say(target: HTMLElement, text: string, kind: "error" | "success" | "info" = "info"): void {
  target.replaceChildren(el("p", kind === "info" ? {} : { class: kind }, text));
}
