// Submits a workflow from a (cluster) workflow template or a cron workflow: Argo's SubmitWorkflow with the
// template's parameters as a form (an enum becomes a select) and its entrypoint.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { request } from "../api.js";
import { navigate } from "../router.js";
import type { Parameter, Workflow, WorkflowSpec } from "../types.js";
import { ErrorBanner } from "./common.js";

export function SubmitForm(props: {
  namespace: string;
  resourceKind: "WorkflowTemplate" | "ClusterWorkflowTemplate" | "CronWorkflow";
  resourceName: string;
  spec: WorkflowSpec | undefined;
}): JSX.Element {
  const params: Parameter[] = props.spec?.arguments?.parameters ?? [];
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(params.map((p) => [p.name, p.value ?? p.default ?? p.enum?.[0] ?? ""])),
  );
  const templates = (props.spec?.templates ?? []).map((t) => t.name ?? "").filter(Boolean);
  const [entryPoint, setEntryPoint] = useState(props.spec?.entrypoint ?? templates[0] ?? "");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const wf = await request<Workflow>(
        "POST",
        `api/v1/workflows/${encodeURIComponent(props.namespace)}/submit`,
        {
          body: {
            namespace: props.namespace,
            resourceKind: props.resourceKind,
            resourceName: props.resourceName,
            submitOptions: {
              parameters: params.map((p) => `${p.name}=${values[p.name] ?? ""}`),
              ...(props.resourceKind !== "CronWorkflow" && entryPoint ? { entryPoint } : {}),
            },
          },
        },
      );
      navigate(`/workflows/${wf.metadata.namespace ?? props.namespace}/${wf.metadata.name}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="submit-form" aria-label={`Submit ${props.resourceName}`} onSubmit={(e) => void submit(e)}>
      {props.resourceKind !== "CronWorkflow" && templates.length > 0 && (
        <label>
          Entrypoint
          <select
            value={entryPoint}
            onChange={(e) => setEntryPoint((e.currentTarget as HTMLSelectElement).value)}
          >
            {templates.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      )}
      {params.map((p) => (
        <label key={p.name}>
          {p.name}
          {p.description && <span class="muted"> — {p.description}</span>}
          {p.enum ? (
            <select
              name={p.name}
              value={values[p.name]}
              onChange={(e) =>
                setValues({ ...values, [p.name]: (e.currentTarget as HTMLSelectElement).value })
              }
            >
              {p.enum.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          ) : (
            <input
              name={p.name}
              value={values[p.name]}
              onInput={(e) => setValues({ ...values, [p.name]: (e.currentTarget as HTMLInputElement).value })}
            />
          )}
        </label>
      ))}
      <ErrorBanner error={error} />
      <button type="submit" class="primary" disabled={busy}>
        Submit
      </button>
    </form>
  );
}
