// The standard `process_*` metrics every Prometheus client exports, under their
// usual names so existing dashboards work. File descriptors come from
// /proc/self where it exists (Linux) and are left out elsewhere.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { MetricsRegistry } from "./registry.ts";

export function registerProcessMetrics(metrics: MetricsRegistry): void {
  metrics.counter({ name: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds." }).with().track(() => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  });
  metrics.gauge({ name: "process_resident_memory_bytes", help: "Resident memory size in bytes." }).with().track(() => process.memoryUsage.rss());
  const startSeconds = Math.round(performance.timeOrigin) / 1000;
  metrics.gauge({ name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch, in seconds." }).with().set(startSeconds);
  if (!existsSync("/proc/self/fd")) return;
  metrics.gauge({ name: "process_open_fds", help: "Open file descriptors." }).with().track(() => readdirSync("/proc/self/fd").length);
  const max = maxOpenFiles();
  if (max !== undefined) metrics.gauge({ name: "process_max_fds", help: "Limit on open file descriptors." }).with().set(max);
}

/** The soft limit from /proc/self/limits ("Max open files  1024  1048576  files"). */
function maxOpenFiles(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
