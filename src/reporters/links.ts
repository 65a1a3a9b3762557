// Links from reports to the web UI of `skiff server` (or Argo's), when a server URL is configured.

/**
 * The UI's page of a workflow, `<server>/workflows/<namespace>/<name>`, with `?nodeId=<id>` selecting one
 * node; undefined without a server URL or a workflow name.
 */
export function workflowUiUrl(
  serverUrl: string | undefined,
  workflow: { metadata?: { name?: string; namespace?: string } } | undefined,
  nodeId?: string,
): string | undefined {
  const name = workflow?.metadata?.name;
  if (!serverUrl || !name) return undefined;
  const base = serverUrl.replace(/\/+$/, "");
  const ns = encodeURIComponent(workflow.metadata?.namespace || "default");
  const url = `${base}/workflows/${ns}/${encodeURIComponent(name)}`;
  return nodeId ? `${url}?nodeId=${encodeURIComponent(nodeId)}` : url;
}
