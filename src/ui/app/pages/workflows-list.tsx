// The workflow list: filters by phase, label and name, newest first, live counts. A list call, then the
// workflow-events stream from the list's resourceVersion (Argo's list-watch), merged by uid.
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { list, watchWorkflows } from "../api.js";
import { ErrorBanner, PhaseBadge } from "../components/common.js";
import { PHASES, ago, formatDuration } from "../phase.js";
import { Link, navigate, useLocation } from "../router.js";
import type { Workflow } from "../types.js";

const FIELDS =
  "metadata,items.metadata.uid,items.metadata.name,items.metadata.namespace,items.metadata.creationTimestamp,items.metadata.labels,items.status.phase,items.status.message,items.status.finishedAt,items.status.startedAt,items.status.progress,items.spec.suspend";

/** Newest first: unfinished by creation, then by finish time (Argo's Workflows.Less). */
export function sortWorkflows(items: Workflow[]): Workflow[] {
  const created = (w: Workflow): number => Date.parse(w.metadata.creationTimestamp ?? "") || 0;
  return [...items].sort((a, b) => created(b) - created(a));
}

export function WorkflowsList(props: { namespace: string }): JSX.Element {
  const loc = useLocation();
  const phases = loc.query.getAll("phase");
  const label = loc.query.get("label") ?? "";
  const name = loc.query.get("name") ?? "";
  const [items, setItems] = useState<Map<string, Workflow>>(new Map());
  const [error, setError] = useState<unknown>(undefined);
  const [loaded, setLoaded] = useState(false);

  const selector = [phases.length ? `workflows.argoproj.io/phase in (${phases.join(",")})` : "", label]
    .filter(Boolean)
    .join(",");

  useEffect(() => {
    const ac = new AbortController();
    let watch: { close(): void } | undefined;
    setLoaded(false);
    setError(undefined);
    const query = {
      "listOptions.labelSelector": selector || undefined,
      ...(name ? { "listOptions.fieldSelector": `metadata.name=${name}`, nameFilter: "Contains" } : {}),
    };
    list<Workflow>(
      `api/v1/workflows/${encodeURIComponent(props.namespace)}`,
      { ...query, fields: FIELDS },
      ac.signal,
    )
      .then((res) => {
        // Unmounted or refiltered while the list was on its way: opening a watch now would leak it.
        if (ac.signal.aborted) return;
        const map = new Map<string, Workflow>();
        for (const w of res.items ?? []) map.set(w.metadata.uid ?? w.metadata.name ?? "", w);
        setItems(map);
        setLoaded(true);
        watch = watchWorkflows<Workflow>(
          props.namespace,
          // The name filter stays client-side: on a watch, a metadata.name selector means one exact name.
          {
            "listOptions.labelSelector": selector || undefined,
            "listOptions.resourceVersion": res.metadata?.resourceVersion,
          },
          (event) => {
            const key = event.object.metadata.uid ?? event.object.metadata.name ?? "";
            setItems((prev) => {
              const next = new Map(prev);
              if (event.type === "DELETED") next.delete(key);
              else if (event.type !== "ERROR" && matches(event.object, phases, name))
                next.set(key, event.object);
              return next;
            });
          },
        );
      })
      .catch((e: unknown) => !ac.signal.aborted && setError(e));
    return () => {
      ac.abort();
      watch?.close();
    };
  }, [props.namespace, selector, name]);

  const sorted = useMemo(() => sortWorkflows([...items.values()]), [items]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const w of items.values())
      c[w.status?.phase || "Pending"] = (c[w.status?.phase || "Pending"] ?? 0) + 1;
    return c;
  }, [items]);

  const update = (key: string, values: string[]): void => {
    const q = new URLSearchParams(loc.query);
    q.delete(key);
    for (const v of values) if (v) q.append(key, v);
    const qs = q.toString();
    navigate(`/workflows/${props.namespace}${qs ? `?${qs}` : ""}`, { replace: true });
  };

  return (
    <div>
      <header class="page-head">
        <h1>Workflows</h1>
        <span class="muted" aria-live="polite" data-testid="workflow-count">
          {sorted.length} workflows
        </span>
      </header>
      <form class="filters" role="search" aria-label="Filter workflows" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Phase</legend>
          {PHASES.filter((p) => p !== "Skipped" && p !== "Omitted").map((p) => (
            <label key={p}>
              <input
                type="checkbox"
                checked={phases.includes(p)}
                onChange={(e) =>
                  update(
                    "phase",
                    (e.currentTarget as HTMLInputElement).checked
                      ? [...phases, p]
                      : phases.filter((x) => x !== p),
                  )
                }
              />{" "}
              {p}{" "}
              <span class="count" data-phase-count={p}>
                {counts[p] ?? 0}
              </span>
            </label>
          ))}
        </fieldset>
        <label>
          Name <DebouncedSearch value={name} placeholder="contains…" onChange={(v) => update("name", [v])} />
        </label>
        <label>
          Labels{" "}
          <DebouncedSearch value={label} placeholder="key=value" onChange={(v) => update("label", [v])} />
        </label>
      </form>
      <ErrorBanner error={error} />
      {!loaded && !error && (
        <div class="loading" aria-busy="true">
          Loading…
        </div>
      )}
      {loaded && sorted.length === 0 && <p class="muted">No workflows.</p>}
      {sorted.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Name</th>
              <th scope="col">Namespace</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Progress</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((w) => (
              <tr key={w.metadata.uid ?? w.metadata.name} data-workflow={w.metadata.name}>
                <td>
                  <PhaseBadge phase={w.status?.phase} />
                </td>
                <td>
                  <Link to={`/workflows/${w.metadata.namespace}/${w.metadata.name}`}>{w.metadata.name}</Link>
                </td>
                <td>{w.metadata.namespace}</td>
                <td>{ago(w.status?.startedAt ?? w.metadata.creationTimestamp)}</td>
                <td>{formatDuration(w.status?.startedAt, w.status?.finishedAt)}</td>
                <td>{w.status?.progress ?? "-"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function matches(w: Workflow, phases: string[], name: string): boolean {
  if (phases.length && !phases.includes(w.status?.phase || "Pending")) return false;
  if (name && !(w.metadata.name ?? "").includes(name)) return false;
  return true;
}

/** A search box that reports its value once typing pauses, so a filter does not list on every key. */
function DebouncedSearch(props: {
  value: string;
  placeholder: string;
  onChange: (v: string) => void;
}): JSX.Element {
  const [value, setValue] = useState(props.value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setValue(props.value), [props.value]);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <input
      type="search"
      value={value}
      placeholder={props.placeholder}
      onInput={(e) => {
        const v = (e.currentTarget as HTMLInputElement).value;
        setValue(v);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => props.onChange(v), 300);
      }}
    />
  );
}
