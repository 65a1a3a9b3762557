// Workflow templates and cluster workflow templates: list, details with the submit form, the workflows
// made from the template, and delete.
import type { JSX } from "preact";
import { get, list, request } from "../api.js";
import { ErrorBanner, PhaseBadge, Section, confirmAction, useLoad } from "../components/common.js";
import { SubmitForm } from "../components/submit-form.js";
import { ago } from "../phase.js";
import { Link, navigate } from "../router.js";
import type { Workflow, WorkflowTemplate } from "../types.js";

const enc = encodeURIComponent;

export function TemplatesList(props: { namespace?: string; cluster: boolean }): JSX.Element {
  const path = props.cluster
    ? "api/v1/cluster-workflow-templates"
    : `api/v1/workflow-templates/${enc(props.namespace ?? "")}`;
  const { data, error } = useLoad((s) => list<WorkflowTemplate>(path, undefined, s), [path]);
  const items = [...(data?.items ?? [])].sort((a, b) =>
    (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
  const title = props.cluster ? "Cluster workflow templates" : "Workflow templates";
  return (
    <div>
      <header class="page-head">
        <h1>{title}</h1>
      </header>
      <ErrorBanner error={error} />
      {data && items.length === 0 && <p class="muted">No templates.</p>}
      {items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              {!props.cluster && <th scope="col">Namespace</th>}
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {items.map((t) => (
              <tr key={t.metadata.name}>
                <td>
                  <Link
                    to={
                      props.cluster
                        ? `/cluster-workflow-templates/${t.metadata.name}`
                        : `/workflow-templates/${t.metadata.namespace}/${t.metadata.name}`
                    }
                  >
                    {t.metadata.name}
                  </Link>
                </td>
                {!props.cluster && <td>{t.metadata.namespace}</td>}
                <td>{ago(t.metadata.creationTimestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function TemplateDetails(props: { namespace: string; name: string; cluster: boolean }): JSX.Element {
  const path = props.cluster
    ? `api/v1/cluster-workflow-templates/${enc(props.name)}`
    : `api/v1/workflow-templates/${enc(props.namespace)}/${enc(props.name)}`;
  const { data: template, error } = useLoad((s) => get<WorkflowTemplate>(path, undefined, s), [path]);
  const labelKey = props.cluster
    ? "workflows.argoproj.io/cluster-workflow-template"
    : "workflows.argoproj.io/workflow-template";
  const { data: runs } = useLoad(
    (s) =>
      list<Workflow>(
        `api/v1/workflows/${enc(props.namespace)}`,
        { "listOptions.labelSelector": `${labelKey}=${props.name}`, "listOptions.limit": "50" },
        s,
      ),
    [props.namespace, props.name],
  );
  const remove = async (): Promise<void> => {
    if (!(await confirmAction(`Delete template ${props.name}?`, "Delete"))) return;
    await request("DELETE", path);
    navigate(props.cluster ? "/cluster-workflow-templates" : `/workflow-templates/${props.namespace}`);
  };
  if (error) return <ErrorBanner error={error} />;
  if (!template)
    return (
      <div class="loading" aria-busy="true">
        Loading…
      </div>
    );
  return (
    <div>
      <header class="page-head">
        <h1>{template.metadata.name}</h1>
        <div class="toolbar">
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </header>
      <div class="columns">
        <Section title="Submit">
          <SubmitForm
            namespace={props.namespace}
            resourceKind={props.cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate"}
            resourceName={props.name}
            spec={template.spec}
          />
        </Section>
        <Section title="Workflows from this template">
          <RunList runs={runs?.items ?? []} />
        </Section>
      </div>
      <Section title="Templates">
        <ul>
          {(template.spec?.templates ?? []).map((t) => (
            <li key={t.name}>
              <code>{t.name}</code>{" "}
              <span class="muted">
                {t.dag ? "dag" : t.steps ? "steps" : t.script ? "script" : t.container ? "container" : ""}
              </span>
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}

export function RunList(props: { runs: Workflow[] }): JSX.Element {
  if (props.runs.length === 0) return <p class="muted">None yet.</p>;
  return (
    <ul class="runs">
      {props.runs.map((w) => (
        <li key={w.metadata.uid ?? w.metadata.name}>
          <PhaseBadge phase={w.status?.phase} label="" />{" "}
          <Link to={`/workflows/${w.metadata.namespace}/${w.metadata.name}`}>{w.metadata.name}</Link>{" "}
          <span class="muted">{ago(w.status?.startedAt ?? w.metadata.creationTimestamp)}</span>
        </li>
      ))}
    </ul>
  );
}
