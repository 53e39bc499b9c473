import type { PodOrigins } from "../shared/api.ts";
import type { PodRecord } from "../../registry/types.ts";
import { formatBytes } from "../shared/status-fields.ts";
import { byId, details, el, say } from "./dom.ts";
import { callJson } from "./http.ts";

const POD_ID = /^[A-Za-z0-9_-]{12}$/;

/** The 12-character pod id in what was typed: the id itself or a pod URL. */
export function podIdFrom(text: string): string | null {
  const trimmed = text.trim();
  if (POD_ID.test(trimmed)) return trimmed;
  try {
    const segment = new URL(trimmed).pathname.split("/").find((s) => POD_ID.test(s));
    return segment ?? null;
  } catch {
    return null;
  }
}

export function setUpLookup(): void {
  const form = byId<HTMLFormElement>("lookup-form");
  const result = byId("lookup-result");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const id = podIdFrom(byId<HTMLInputElement>("lookup-id").value);
    if (!id) return say(result, "Enter a 12-character pod id or a pod URL such as https://host/AbCdEf123456.", "error");
    void lookUp(id, result);
  });
}

async function lookUp(id: string, result: HTMLElement): Promise<void> {
  say(result, `Looking up ${id}…`);
  const [meta, origins] = await Promise.all([callJson<PodRecord>(`/${id}/meta`), callJson<PodOrigins>(`/console/api/pods/${id}/online`)]);
  if (!meta.ok) return say(result, `${id}: ${meta.message}`, "error");
  const r = meta.body;
  const url = new URL(`/${r.id}`, location.href).href;
  const state = !origins.ok
    ? el("span", {}, origins.message)
    : el("span", { class: origins.body.online ? "online" : "offline", id: "lookup-online" }, origins.body.online ? "online" : "offline");
  const podIds = origins.ok ? origins.body.podIds.map((p) => `${p.podId} (${p.online ? "online" : "offline"})`).join(", ") : "";
  result.replaceChildren(
    details([
      ["Name", r.name],
      ["URL", el("a", { href: url }, url)],
      ["Origin", state],
      ["Pod ids", podIds],
      ["Owner key", el("code", {}, r.ownerPubkey)],
      ["Size", formatBytes(r.blobSize)],
      ["Created", new Date(r.createdAt).toLocaleString()],
      ["Hits", String(r.hits)],
    ]),
  );
}
