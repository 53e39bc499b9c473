import type { PodRecord } from "../../registry/types.ts";
import { formatBytes } from "../shared/status-fields.ts";
import { byId, details, el, say } from "./dom.ts";
import { bearer, callJson } from "./http.ts";

interface Published {
  id: string;
  url: string;
  ownerPubkey: string;
  blobSize: number;
}

/** Publishing by file picker or by dropping a file anywhere on the page. */
export function setUpPublishing(): void {
  const input = byId<HTMLInputElement>("pod-file");
  const zone = byId("drop-zone");
  const result = byId("publish-result");
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) void publish(file, result);
  });
  // Dropping anywhere must not navigate away to the file.
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const file = e.dataTransfer?.files[0];
    if (file) void publish(file, result);
  });
}

async function publish(file: File, result: HTMLElement): Promise<void> {
  // Refused here rather than after uploading megabytes the server would not keep.
  const limit = Number(byId("pod-limit").dataset.maxBytes);
  if (file.size > limit) return say(result, `${file.name}: Too large: it is ${formatBytes(file.size)}; this server accepts pods up to ${formatBytes(limit)}.`, "error");
  say(result, `Uploading ${file.name} (${formatBytes(file.size)})…`);
  const token = byId<HTMLInputElement>("upload-token").value.trim();
  const upload = await callJson<Published>("/pods", { method: "POST", body: file, headers: { "Content-Type": "text/html", ...bearer(token) } });
  if (!upload.ok) return say(result, `${file.name}: ${upload.message}`, "error");
  const { id, url, ownerPubkey, blobSize } = upload.body;
  // The upload answer does not carry the name; the record does.
  const meta = await callJson<PodRecord>(`/${id}/meta`);
  const link = el("a", { href: url, id: "published-url" }, url);
  const copy = el("button", { type: "button", class: "secondary" }, "Copy URL");
  const copied = el("span", { role: "status" });
  copy.addEventListener("click", () => {
    navigator.clipboard.writeText(url).then(
      () => (copied.textContent = " Copied."),
      () => (copied.textContent = " Copying is blocked here; select the link instead."),
    );
  });
  result.replaceChildren(
    el("p", { class: "success" }, `Published ${file.name}.`),
    details([
      ["Public URL", el("span", {}, link, " ", copy, copied)],
      ["Name", meta.ok ? meta.body.name : "(unavailable)"],
      ["Owner key", el("code", { id: "published-owner" }, ownerPubkey)],
      ["Size", formatBytes(blobSize)],
      ["Id", el("code", {}, id)],
    ]),
  );
}
