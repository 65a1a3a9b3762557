// Cron workflows: schedules with their next runs (croner, in the cron's timezone), last run, active runs,
// suspend/resume, submit now, delete.
import { Cron } from "croner";
import type { JSX } from "preact";
import { get, list, request } from "../api.js";
import { ErrorBanner, KeyValues, Section, confirmAction, useLoad } from "../components/common.js";
import { SubmitForm } from "../components/submit-form.js";
import { ago, formatTime } from "../phase.js";
import { Link, navigate } from "../router.js";
import type { CronWorkflow, Workflow } from "../types.js";
import { RunList } from "./templates.js";

const enc = encodeURIComponent;

/** The next `count` run times of a cron's schedules, merged and sorted. */
export function nextRuns(cron: CronWorkflow, count = 3, from = new Date()): Date[] {
  const schedules = cron.spec.schedules ?? (cron.spec.schedule ? [cron.spec.schedule] : []);
  const runs: Date[] = [];
  for (const s of schedules) {
    try {
      const job = new Cron(s, {
        paused: true,
        ...(cron.spec.timezone ? { timezone: cron.spec.timezone } : {}),
      });
      runs.push(...job.nextRuns(count, from));
    } catch {
      // An unparseable schedule is reported by the server's validation; show nothing for it here.
    }
  }
  return runs.sort((a, b) => a.getTime() - b.getTime()).slice(0, count);
}

export function CronList(props: { namespace: string }): JSX.Element {
  const { data, error } = useLoad(
    (s) => list<CronWorkflow>(`api/v1/cron-workflows/${enc(props.namespace)}`, undefined, s),
    [props.namespace],
  );
  const items = data?.items ?? [];
  return (
    <div>
      <header class="page-head">
        <h1>Cron workflows</h1>
      </header>
      <ErrorBanner error={error} />
      {data && items.length === 0 && <p class="muted">No cron workflows.</p>}
      {items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Schedules</th>
              <th scope="col">Next run</th>
              <th scope="col">Last run</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.metadata.name}>
                <td>
                  <Link to={`/cron-workflows/${c.metadata.namespace}/${c.metadata.name}`}>
                    {c.metadata.name}
                  </Link>
                </td>
                <td>
                  <code>{(c.spec.schedules ?? [c.spec.schedule]).join(", ")}</code>
                </td>
                <td>{c.spec.suspend ? "-" : formatTime(nextRuns(c, 1)[0]?.toISOString())}</td>
                <td>{ago(c.status?.lastScheduledTime)}</td>
                <td>{c.spec.suspend ? "Suspended" : "Active"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function CronDetails(props: { namespace: string; name: string }): JSX.Element {
  const path = `api/v1/cron-workflows/${enc(props.namespace)}/${enc(props.name)}`;
  const { data: cron, error, setData } = useLoad((s) => get<CronWorkflow>(path, undefined, s), [path]);
  const { data: runs } = useLoad(
    (s) =>
      list<Workflow>(
        `api/v1/workflows/${enc(props.namespace)}`,
        {
          "listOptions.labelSelector": `workflows.argoproj.io/cron-workflow=${props.name}`,
          "listOptions.limit": "50",
        },
        s,
      ),
    [props.namespace, props.name],
  );
  if (error) return <ErrorBanner error={error} />;
  if (!cron)
    return (
      <div class="loading" aria-busy="true">
        Loading…
      </div>
    );
  const toggle = async (): Promise<void> => {
    setData(
      await request<CronWorkflow>("PUT", `${path}/${cron.spec.suspend ? "resume" : "suspend"}`, {
        body: { namespace: props.namespace, name: props.name },
      }),
    );
  };
  const remove = async (): Promise<void> => {
    if (!(await confirmAction(`Delete cron workflow ${props.name}?`, "Delete"))) return;
    await request("DELETE", path);
    navigate(`/cron-workflows/${props.namespace}`);
  };
  return (
    <div>
      <header class="page-head">
        <h1>{cron.metadata.name}</h1>
        <div class="toolbar">
          <button type="button" onClick={() => void toggle()}>
            {cron.spec.suspend ? "Resume" : "Suspend"}
          </button>
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </header>
      <KeyValues
        rows={[
          ["Schedules", <code>{(cron.spec.schedules ?? [cron.spec.schedule]).join(", ")}</code>],
          ["Timezone", cron.spec.timezone || "server local"],
          ["Concurrency", cron.spec.concurrencyPolicy || "Allow"],
          ["State", cron.spec.suspend ? "Suspended" : "Active"],
          ["Last run", formatTime(cron.status?.lastScheduledTime)],
          [
            "Next runs",
            cron.spec.suspend ? (
              "- (suspended)"
            ) : (
              <ul class="next-runs">
                {nextRuns(cron, 5).map((d) => (
                  <li key={d.getTime()}>{formatTime(d.toISOString())}</li>
                ))}
              </ul>
            ),
          ],
          ["Succeeded / failed", `${cron.status?.succeeded ?? 0} / ${cron.status?.failed ?? 0}`],
        ]}
      />
      <div class="columns">
        <Section title="Submit now">
          <SubmitForm
            namespace={props.namespace}
            resourceKind="CronWorkflow"
            resourceName={props.name}
            spec={cron.spec.workflowSpec}
          />
        </Section>
        <Section title="Workflows from this cron">
          <RunList runs={runs?.items ?? []} />
        </Section>
      </div>
    </div>
  );
}
