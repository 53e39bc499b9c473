import type { PodPage, PodRecord } from "../../registry/types.ts";
import { formatBytes } from "../shared/status-fields.ts";
import { byId, el, say } from "./dom.ts";
import { bearer, callJson } from "./http.ts";

/** Kept for this tab only: gone when it closes, never in localStorage or a cookie. */
const TOKEN_KEY = "gemmapod-signal.admin-token";
const PAGE_SIZE = 50;

/** Listing pods (optionally of one owner) and deleting them with the admin token. */
export function setUpAdmin(): void {
  const form = byId<HTMLFormElement>("admin-form");
  const tokenInput = byId<HTMLInputElement>("admin-token");
  const message = byId("admin-message");
  const table = byId<HTMLTableElement>("admin-pods");
  const more = byId<HTMLButtonElement>("admin-more");
  let cursor: string | undefined;
  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";

  const list = async (append: boolean) => {
    const token = tokenInput.value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    const owner = byId<HTMLInputElement>("admin-owner").value.trim();
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (owner) query.set("owner", owner);
    if (append && cursor) query.set("cursor", cursor);
    const page = await callJson<PodPage>(`/admin/pods?${query}`, { headers: bearer(token) });
    if (!page.ok) return say(message, page.message, "error");
    cursor = page.body.nextCursor;
    more.hidden = cursor === undefined;
    const body = table.tBodies[0]!;
    if (!append) body.replaceChildren();
    body.append(...page.body.pods.map((pod) => row(pod, token, message)));
    table.hidden = body.rows.length === 0;
    say(message, body.rows.length === 0 ? "No pods." : `${body.rows.length} pod${body.rows.length === 1 ? "" : "s"} listed${cursor ? "; more on the next page" : ""}.`);
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void list(false);
  });
  more.addEventListener("click", () => void list(true));
  byId("admin-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    tokenInput.value = "";
    table.hidden = true;
    more.hidden = true;
    say(message, "Token forgotten.");
  });
}

/** One pod; its delete button asks for a second press before it acts. */
function row(pod: PodRecord, token: string, message: HTMLElement): HTMLTableRowElement {
  const remove = el("button", { type: "button", class: "danger", "aria-label": `Delete ${pod.id} (${pod.name})` }, "Delete");
  let armed = false;
  remove.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      remove.textContent = "Confirm delete";
      return say(message, `Press "Confirm delete" again to delete ${pod.id} (${pod.name}). This cannot be undone.`);
    }
    remove.disabled = true;
    const done = await callJson<{ deleted: string[] }>(`/${pod.id}`, { method: "DELETE", headers: bearer(token) });
    if (!done.ok) {
      remove.disabled = false;
      return say(message, `${pod.id}: ${done.message}`, "error");
    }
    tr.remove();
    say(message, `Deleted ${pod.id} (${pod.name}).`, "success");
  });
  const tr = el(
    "tr",
    { "data-pod": pod.id },
    el("td", {}, el("a", { href: `/${pod.id}` }, pod.id)),
    el("td", {}, pod.name),
    el("td", {}, el("code", { title: pod.ownerPubkey }, `${pod.ownerPubkey.slice(0, 12)}…`)),
    el("td", {}, formatBytes(pod.blobSize)),
    el("td", {}, new Date(pod.createdAt).toLocaleString()),
    el("td", {}, String(pod.hits)),
    el("td", {}, remove),
  );
  return tr;
}
