import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { parse } from "yaml";
import type { Workflow } from "../../runtime/spec/types.js";
import type { NodeCheck } from "./node-checks.js";

/*
 * Conformance workflows of Skiff's own (test/conformance/workflows/), written for Argo behaviours the
 * example corpus does not cover: patterns found in real-world and Hera-generated workflows. Each file
 * names the phase Argo ends it in with the annotation `conformance.skiff.dev/phase`; the nodes and values
 * Argo would produce are listed here, derived from Argo's semantics (ARGO-SEMANTICS.md), not from Skiff.
 */

export const OWN_WORKFLOWS = join(dirname(fileURLToPath(import.meta.url)), "workflows");
export const PHASE_ANNOTATION = "conformance.skiff.dev/phase";

export interface OwnWorkflow {
  file: string;
  phase: "Succeeded" | "Failed" | "Error";
}

/** The workflow files and the phase each must reach. */
export function ownWorkflows(): OwnWorkflow[] {
  return readdirSync(OWN_WORKFLOWS)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const doc = parse(readFileSync(join(OWN_WORKFLOWS, file), "utf8")) as Workflow;
      const phase = doc.metadata.annotations?.[PHASE_ANNOTATION] as OwnWorkflow["phase"] | undefined;
      if (!phase) throw new Error(`${file}: no ${PHASE_ANNOTATION} annotation`);
      return { file, phase };
    });
}

/** What a run must show besides its phase: nodes, and parameter values by node (`{wf}` = its name). */
export interface OwnChecks {
  nodes: NodeCheck[];
  outputs?: Record<string, Record<string, string>>;
  inputs?: Record<string, Record<string, string>>;
}

const pod = (name: string, phase: NodeCheck["phase"] = "Succeeded"): NodeCheck => ({
  name,
  type: "Pod",
  phase,
});
const skipped = (name: string): NodeCheck => ({ name, type: "Skipped", phase: "Skipped" });

export const OWN_CHECKS: Record<string, OwnChecks> = {
  "literal-outputs.yaml": {
    nodes: [
      { name: "{wf}", type: "DAG", phase: "Succeeded" },
      { name: "{wf}.label", type: "TaskGroup", phase: "Succeeded" },
      pod("{wf}.label(0:red)"),
      pod("{wf}.label(1:green)"),
      { name: "{wf}.flaky", type: "Retry", phase: "Succeeded", children: ["{wf}.flaky(0)", "{wf}.flaky(1)"] },
      pod("{wf}.flaky(0)", "Failed"),
      pod("{wf}.flaky(1)"),
      pod("{wf}.check"),
    ],
    outputs: {
      "{wf}.label(0:red)": { label: "colour-red" },
      "{wf}.label(1:green)": { label: "colour-green" },
      "{wf}.flaky": { attempt: "1" },
    },
    inputs: { "{wf}.check": { labels: '["colour-red","colour-green"]', attempt: "1" } },
  },
  "artifact-locations.yaml": {
    nodes: [
      { name: "{wf}", type: "Steps", phase: "Succeeded" },
      pod("{wf}[0].produce"),
      pod("{wf}[1].consume"),
    ],
    inputs: { "{wf}[1].consume": { who: "world" } },
  },
  "when-before-arguments.yaml": {
    nodes: [
      { name: "{wf}", type: "DAG", phase: "Succeeded" },
      skipped("{wf}.discover"),
      skipped("{wf}.one"),
      skipped("{wf}.each"),
      pod("{wf}.after"),
    ],
  },
  "expression-defaults.yaml": {
    nodes: [{ name: "{wf}", type: "Steps", phase: "Succeeded" }, pod("{wf}[0].deploy")],
    inputs: { "{wf}[0].deploy": { regions: '["eu","us"]' } },
  },
  "exit-hook-arguments.yaml": {
    nodes: [{ name: "{wf}", type: "Pod", phase: "Succeeded" }, pod("{wf}.onExit")],
    inputs: { "{wf}.onExit": { summary: "exit-hook-arguments Succeeded" } },
  },
};

/** Checks the parameter values OwnChecks names. */
export function checkValues(wf: Workflow, checks: OwnChecks): void {
  const byName = new Map(Object.values(wf.status?.nodes ?? {}).map((n) => [n.name, n]));
  const expand = (name: string) => name.replaceAll("{wf}", wf.metadata.name ?? "");
  for (const [kind, table] of [
    ["outputs", checks.outputs],
    ["inputs", checks.inputs],
  ] as const) {
    for (const [name, params] of Object.entries(table ?? {})) {
      const node = byName.get(expand(name));
      const actual = Object.fromEntries(
        (node?.[kind]?.parameters ?? []).map((p) => [p.name, p.value ?? ""] as [string, string]),
      );
      expect(actual, `${expand(name)} ${kind}`).toMatchObject(params);
    }
  }
}
