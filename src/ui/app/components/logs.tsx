// A node's logs: streamed from `…/log` (follow until the workflow ends), searchable, downloadable, with
// ANSI colours rendered.
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { stream } from "../api.js";
import { parseAnsi, stripAnsi } from "../ansi.js";
import type { LogEntry } from "../types.js";
import { ErrorBanner } from "./common.js";
import { VirtualList } from "./virtual-list.js";

export function LogsViewer(props: {
  namespace: string;
  workflow: string;
  podName: string;
  container?: string;
  live: boolean;
}): JSX.Element {
  const [lines, setLines] = useState<string[]>([]);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [ended, setEnded] = useState(false);
  const buffer = useRef<string[]>([]);

  useEffect(() => {
    buffer.current = [];
    setLines([]);
    setEnded(false);
    setError(undefined);
    let scheduled = false;
    const flush = (): void => {
      scheduled = false;
      setLines([...buffer.current]);
    };
    const s = stream<LogEntry>(
      `api/v1/workflows/${encodeURIComponent(props.namespace)}/${encodeURIComponent(props.workflow)}/log`,
      {
        podName: props.podName,
        "logOptions.container": props.container ?? "main",
        "logOptions.follow": props.live ? "true" : undefined,
      },
      {
        onResult: (entry) => {
          buffer.current.push(...(entry.content ?? "").split("\n"));
          // Batch lines per frame: a chatty step must not re-render for every line.
          if (!scheduled) {
            scheduled = true;
            requestAnimationFrame(flush);
          }
        },
        onError: setError,
        onEnd: () => setEnded(true),
      },
      { reconnect: false },
    );
    return () => s.close();
  }, [props.namespace, props.workflow, props.podName, props.container, props.live]);

  const shown = useMemo(() => {
    if (!search) return lines.map((text, i) => ({ text, n: i + 1 }));
    const needle = search.toLowerCase();
    return lines.flatMap((text, i) =>
      stripAnsi(text).toLowerCase().includes(needle) ? [{ text, n: i + 1 }] : [],
    );
  }, [lines, search]);

  const download = (): void => {
    const blob = new Blob([lines.map(stripAnsi).join("\n")], { type: "text/plain" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${props.podName}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <div class="logs">
      <div class="toolbar">
        <label>
          <span class="sr-only">Search logs</span>
          <input
            type="search"
            placeholder="Search logs"
            aria-label="Search logs"
            value={search}
            onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Follow
        </label>
        <button type="button" onClick={download}>
          Download
        </button>
        <span class="muted" aria-live="polite">
          {shown.length} lines{ended ? "" : " (streaming)"}
        </span>
      </div>
      <ErrorBanner error={error} />
      <VirtualList
        label="Log lines"
        items={shown}
        rowHeight={18}
        height={360}
        focusIndex={follow ? shown.length - 1 : undefined}
        renderRow={(line) => (
          <div class="logline">
            <span class="lineno" aria-hidden="true">
              {line.n}
            </span>
            {parseAnsi(line.text).map((seg, i) => (
              <span
                key={i}
                class={seg.classes.join(" ")}
                style={
                  seg.color || seg.background ? { color: seg.color, background: seg.background } : undefined
                }
              >
                {seg.text}
              </span>
            ))}
          </div>
        )}
      />
    </div>
  );
}
