// The side panel of one node: summary, inputs, outputs, artifacts (download and preview) and logs.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { apiUrl, getToken } from "../api.js";
import { podNameOf } from "../graph/model.js";
import { formatDuration, formatSeconds, formatTime, isCompleted } from "../phase.js";
import type { Artifact, NodeStatus, Parameter, Workflow } from "../types.js";
import { KeyValues, PhaseBadge, Section } from "./common.js";
import { LogsViewer } from "./logs.js";

export type PanelTab = "summary" | "inputs-outputs" | "logs";

const LEAF_TYPES = new Set(["Pod", "Container"]);

export function NodePanel(props: {
  workflow: Workflow;
  node: NodeStatus;
  /** "workflows/<name>" or "archived-workflows/<uid>": Argo's artifact route discriminator. */
  artifactSource: { kind: "workflows" | "archived-workflows"; id: string };
  tab: PanelTab;
  onTab: (tab: PanelTab) => void;
  onClose: () => void;
  onResume?: () => void;
}): JSX.Element {
  const { node, workflow } = props;
  const ns = workflow.metadata.namespace ?? "";
  const tabs: [PanelTab, string][] = [
    ["summary", "Summary"],
    ["inputs-outputs", "Inputs/Outputs"],
    ...(LEAF_TYPES.has(node.type) ? ([["logs", "Logs"]] as [PanelTab, string][]) : []),
  ];
  return (
    <aside class="panel" aria-label={`Node ${node.displayName ?? node.name}`}>
      <header class="panel-head">
        <h2>{node.displayName ?? node.name}</h2>
        <button type="button" aria-label="Close node panel" onClick={props.onClose}>
          ✕
        </button>
      </header>
      <div role="tablist" class="tabs">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            role="tab"
            type="button"
            aria-selected={props.tab === id}
            onClick={() => props.onTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {props.tab === "summary" && (
        <div role="tabpanel">
          <KeyValues
            rows={[
              ["Phase", <PhaseBadge phase={node.phase} />],
              ["Name", node.name],
              ["ID", node.id],
              ["Type", node.type],
              [
                "Template",
                node.templateName ??
                  (node.templateRef ? `${node.templateRef.name}/${node.templateRef.template}` : "-"),
              ],
              ["Started", formatTime(node.startedAt)],
              ["Finished", formatTime(node.finishedAt)],
              ["Duration", formatDuration(node.startedAt, node.finishedAt)],
              ["Message", node.message ?? "-"],
              ["Exit code", node.outputs?.exitCode ?? "-"],
              ["Progress", node.progress ?? "-"],
              ["Resources", formatResources(node.resourcesDuration)],
              ...(LEAF_TYPES.has(node.type)
                ? ([["Pod", podNameOf(workflow, node)]] as [string, string][])
                : []),
            ]}
          />
          {node.type === "Suspend" && node.phase === "Running" && props.onResume && (
            <button type="button" onClick={props.onResume}>
              Resume this node
            </button>
          )}
        </div>
      )}
      {props.tab === "inputs-outputs" && (
        <div role="tabpanel">
          <Section title="Input parameters">
            <Params params={node.inputs?.parameters} />
          </Section>
          <Section title="Input artifacts">
            <Artifacts
              ns={ns}
              node={node}
              source={props.artifactSource}
              io="inputs"
              artifacts={node.inputs?.artifacts}
            />
          </Section>
          <Section title="Output parameters">
            <Params params={node.outputs?.parameters} />
            {node.outputs?.result !== undefined && (
              <KeyValues rows={[["result", <code>{node.outputs.result}</code>]]} />
            )}
          </Section>
          <Section title="Output artifacts">
            <Artifacts
              ns={ns}
              node={node}
              source={props.artifactSource}
              io="outputs"
              artifacts={node.outputs?.artifacts}
            />
          </Section>
        </div>
      )}
      {props.tab === "logs" && (
        <div role="tabpanel">
          <LogsViewer
            namespace={ns}
            workflow={workflow.metadata.name ?? ""}
            podName={podNameOf(workflow, node)}
            live={!isCompleted(node.phase) && !isCompleted(workflow.status?.phase)}
          />
        </div>
      )}
    </aside>
  );
}

function formatResources(r: Record<string, number> | undefined): string {
  if (!r || Object.keys(r).length === 0) return "-";
  return Object.entries(r)
    .map(([k, v]) => `${formatSeconds(v)} × ${k}`)
    .join(", ");
}

function Params(props: { params: Parameter[] | undefined }): JSX.Element {
  if (!props.params?.length) return <p class="muted">None</p>;
  return <KeyValues rows={props.params.map((p) => [p.name, <code>{p.value ?? p.default ?? ""}</code>])} />;
}

function Artifacts(props: {
  ns: string;
  node: NodeStatus;
  source: { kind: string; id: string };
  io: "inputs" | "outputs";
  artifacts: Artifact[] | undefined;
}): JSX.Element {
  const [preview, setPreview] = useState<string | undefined>(undefined);
  const arts = (props.artifacts ?? []).filter((a) => !a.name.endsWith("-logs") || props.io === "outputs");
  if (arts.length === 0) return <p class="muted">None</p>;
  const url = (a: Artifact): string =>
    apiUrl(
      ["artifact-files", props.ns, props.source.kind, props.source.id, props.node.id, props.io, a.name]
        .map(encodeURIComponent)
        .join("/"),
    );
  return (
    <div>
      <ul class="artifacts">
        {arts.map((a) => (
          <li key={a.name}>
            <span class="artifact-name">{a.name}</span>
            <a href={url(a)} download={a.name} class="button">
              Download
            </a>
            <button
              type="button"
              onClick={() => setPreview(preview === a.name ? undefined : a.name)}
              aria-expanded={preview === a.name}
            >
              Preview
            </button>
            {preview === a.name && <ArtifactPreview url={url(a)} name={a.name} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The image type of an artifact from its first bytes (artifact names rarely carry an extension). */
function sniffImage(bytes: Uint8Array, name: string): string | undefined {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57) return "image/webp";
  if (/\.svg$/i.test(name)) return "image/svg+xml";
  return undefined;
}

function ArtifactPreview(props: { url: string; name: string }): JSX.Element {
  const [content, setContent] = useState<{ text?: string; image?: string; error?: string } | undefined>();
  useEffect(() => {
    let objectUrl: string | undefined;
    const ac = new AbortController();
    const token = getToken();
    fetch(props.url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: ac.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        const image = res.headers.get("content-type")?.startsWith("image/")
          ? res.headers.get("content-type")
          : sniffImage(bytes, props.name);
        if (image) {
          objectUrl = URL.createObjectURL(new Blob([bytes], { type: image }));
          setContent({ image: objectUrl });
        } else if (bytes.includes(0)) {
          // Binary data (a NUL byte) is not previewed.
          setContent({ error: "binary content" });
        } else {
          setContent({ text: new TextDecoder().decode(bytes.slice(0, 65536)) });
        }
      })
      .catch((e: unknown) => !ac.signal.aborted && setContent({ error: String(e) }));
    return () => {
      ac.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [props.url]);
  if (!content) return <p class="muted">Loading…</p>;
  if (content.error) return <p class="muted">No preview: {content.error}</p>;
  if (content.image) return <img class="preview" src={content.image} alt={`Preview of ${props.name}`} />;
  return (
    <pre class="preview" aria-label={`Preview of ${props.name}`}>
      {content.text}
    </pre>
  );
}
