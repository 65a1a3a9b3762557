// Phase colours and icons, as Argo's UI shows them. The icon is a glyph plus a text label, so phase is
// never told by colour alone.

export const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted"] as const;

const ICONS: Record<string, string> = {
  Pending: "◷",
  Running: "◌",
  Succeeded: "✔",
  Failed: "✖",
  Error: "⚠",
  Skipped: "⤼",
  Omitted: "∅",
  Suspended: "❚❚",
};

export function phaseIcon(phase: string | undefined): string {
  return ICONS[phase ?? "Pending"] ?? "•";
}

/** CSS class of a phase: `phase-succeeded`, ... */
export function phaseClass(phase: string | undefined): string {
  return `phase-${(phase || "Pending").toLowerCase()}`;
}

export function isCompleted(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed" || phase === "Error";
}

/** "1h 2m 3s" between two RFC 3339 times (or until now while running). */
export function formatDuration(startedAt?: string, finishedAt?: string, now = Date.now()): string {
  if (!startedAt) return "-";
  const ms = (finishedAt ? Date.parse(finishedAt) : now) - Date.parse(startedAt);
  return formatSeconds(Math.max(0, Math.round(ms / 1000)));
}

export function formatSeconds(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", `${s}s`].filter(Boolean).join(" ");
}

export function formatTime(time?: string): string {
  if (!time) return "-";
  const d = new Date(time);
  return Number.isNaN(d.getTime()) ? time : d.toLocaleString();
}

/** "2m ago" for lists. */
export function ago(time?: string, now = Date.now()): string {
  if (!time) return "-";
  const s = Math.round((now - Date.parse(time)) / 1000);
  if (s < 60) return `${Math.max(0, s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
