// Large workflows for the UI's benchmark and screenshots: a steps workflow of `groups` sequential loops,
// `total` nodes in all (root + step groups + pods), as Argo records a withItems fan-out in status.nodes.
import { nodeId } from "../../../runtime/spec/index.js";

export function largeWorkflow(
  name: string,
  namespace: string,
  total: number,
  groups = 10,
): Record<string, any> {
  const started = new Date(Date.now() - 600_000).toISOString();
  const finished = new Date(Date.now() - 60_000).toISOString();
  const nodes: Record<string, any> = {};
  const root = {
    id: name,
    name,
    displayName: name,
    type: "Steps",
    templateName: "main",
    phase: "Running",
    startedAt: started,
    children: [] as string[],
  };
  nodes[root.id] = root;
  const pods = total - 1 - groups;
  let previous: any[] = [root];
  let made = 0;
  for (let g = 0; g < groups; g++) {
    const groupName = `${name}[${g}]`;
    const group = {
      id: nodeId(name, groupName),
      name: groupName,
      displayName: `[${g}]`,
      type: "StepGroup",
      phase: "Running",
      boundaryID: name,
      startedAt: started,
      children: [] as string[],
    };
    nodes[group.id] = group;
    for (const p of previous) p.children.push(group.id);
    const count = Math.floor(pods / groups) + (g < pods % groups ? 1 : 0);
    const leaves: any[] = [];
    for (let i = 0; i < count; i++, made++) {
      const display = `shard(${i}:${i})`;
      const leafName = `${groupName}.${display}`;
      const done = g < groups / 2;
      const leaf = {
        id: nodeId(name, leafName),
        name: leafName,
        displayName: display,
        type: "Pod",
        templateName: "shard",
        phase: done ? "Succeeded" : "Pending",
        boundaryID: name,
        startedAt: started,
        ...(done ? { finishedAt: finished, outputs: { exitCode: "0" } } : {}),
        inputs: { parameters: [{ name: "item", value: String(i) }] },
        children: [] as string[],
      };
      nodes[leaf.id] = leaf;
      group.children.push(leaf.id);
      leaves.push(leaf);
    }
    if (g < groups / 2) Object.assign(group, { phase: "Succeeded", finishedAt: finished });
    previous = leaves;
  }
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      creationTimestamp: started,
      labels: { "workflows.argoproj.io/phase": "Running" },
    },
    spec: {
      entrypoint: "main",
      templates: [{ name: "main" }, { name: "shard", container: { image: "busybox" } }],
    },
    status: { phase: "Running", startedAt: started, progress: `${made / 2}/${made}`, nodes },
  };
}
