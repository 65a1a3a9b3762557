// Archived workflows (the store's archive): a list; each opens in the workflow page without a watch.
import type { JSX } from "preact";
import { list } from "../api.js";
import { ErrorBanner, PhaseBadge, useLoad } from "../components/common.js";
import { ago, formatDuration } from "../phase.js";
import { Link } from "../router.js";
import type { Workflow } from "../types.js";

export function ArchivedList(props: { namespace: string }): JSX.Element {
  const { data, error } = useLoad(
    (s) => list<Workflow>("api/v1/archived-workflows", { namespace: props.namespace || undefined }, s),
    [props.namespace],
  );
  const items = data?.items ?? [];
  return (
    <div>
      <header class="page-head">
        <h1>Archived workflows</h1>
      </header>
      <ErrorBanner error={error} />
      {data && items.length === 0 && <p class="muted">No archived workflows.</p>}
      {items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Name</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.metadata.uid}>
                <td>
                  <PhaseBadge phase={w.status?.phase} />
                </td>
                <td>
                  <Link to={`/archived-workflows/${w.metadata.namespace}/${w.metadata.uid}`}>
                    {w.metadata.name}
                  </Link>
                </td>
                <td>{ago(w.status?.startedAt)}</td>
                <td>{formatDuration(w.status?.startedAt, w.status?.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
