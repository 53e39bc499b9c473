// Shared by the server (which renders the page) and the page's script (which
// keeps it live), so both always show the same labels and formats.
import type { ConsoleSnapshot } from "../status.ts";

export interface StatusField {
  key: string;
  label: string;
  text: (s: ConsoleSnapshot) => string;
}

const count = (n: number) => n.toLocaleString("en-US");

export const STATUS_FIELDS: readonly StatusField[] = [
  { key: "version", label: "Version", text: (s) => s.version },
  { key: "uptime", label: "Uptime", text: (s) => formatDuration(s.uptimeSeconds) },
  { key: "registry", label: "Registry", text: (s) => s.registry },
  { key: "origins", label: "Origins online", text: (s) => count(s.origins) },
  { key: "sessions", label: "Sessions being negotiated", text: (s) => count(s.sessions) },
  { key: "sessionsStarted", label: "Sessions started", text: (s) => count(s.sessionsStarted) },
  { key: "peers", label: "Peers", text: (s) => count(s.peers) },
  { key: "rooms", label: "Rooms", text: (s) => count(s.rooms) },
  { key: "tunnels", label: "Tunnels", text: (s) => count(s.tunnels) },
  { key: "pods", label: "Pods stored", text: (s) => (s.pods === null ? "unknown" : count(s.pods)) },
];

export function formatDuration(totalSeconds: number): string {
  const d = Math.floor(totalSeconds / 86400);
  const h = Math.floor((totalSeconds % 86400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]} (${count(bytes)} bytes)`;
}
