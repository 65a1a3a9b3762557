import { describe, expect, it } from "vitest";
import type { NodePhase, NodeStatus, NodeType, Workflow } from "../../../runtime/spec/types.js";
import { CORPUS_PRESENT, expectedRuns, SKIP_MESSAGE } from "../../conformance/corpus.js";
import { checkNodes, NODE_CHECKS, type NodeCheck } from "../../conformance/node-checks.js";

/** A finished workflow named `wf` with the given nodes; children are given by name and stored as IDs. */
function workflow(
  nodes: { name: string; type: NodeType; phase: NodePhase; children?: string[] }[],
): Workflow {
  const id = (name: string) =>
    name === "wf" ? "wf" : `wf-${name.length}-${name.replace(/[^a-z0-9]/gi, "")}`;
  const status: Record<string, NodeStatus> = {};
  for (const n of nodes) {
    status[id(n.name)] = {
      id: id(n.name),
      name: n.name,
      displayName: n.name,
      type: n.type,
      phase: n.phase,
      children: n.children?.map(id),
    };
  }
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "wf" },
    spec: { entrypoint: "main", templates: [] },
    status: { phase: "Succeeded", nodes: status },
  };
}

const steps = workflow([
  { name: "wf", type: "Steps", phase: "Succeeded", children: ["wf[0]"] },
  { name: "wf[0]", type: "StepGroup", phase: "Succeeded", children: ["wf[0].a", "wf[0].b"] },
  { name: "wf[0].a", type: "Pod", phase: "Succeeded" },
  { name: "wf[0].b", type: "Skipped", phase: "Skipped" },
]);

const passing: NodeCheck[] = [
  { name: "{wf}", type: "Steps", phase: "Succeeded", children: ["{wf}[0]"] },
  // Children are a set: order does not matter.
  { name: "{wf}[0]", type: "StepGroup", children: ["{wf}[0].b", "{wf}[0].a"] },
  { name: "{wf}[0].a", type: "Pod", phase: "Succeeded", children: [] },
  { name: "{wf}[0].b", type: "Skipped", phase: "Skipped" },
  { name: "{wf}[1]", absent: true },
];

/** Runs checkNodes and returns the assertion message, or "" when it passed. */
function failureOf(wf: Workflow, checks: NodeCheck[]): string {
  try {
    checkNodes(wf, checks);
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

describe("checkNodes", () => {
  it("passes when every check holds", () => {
    expect(failureOf(steps, passing)).toBe("");
  });

  it("fails on a wrong phase, naming the node and the field", () => {
    const message = failureOf(steps, [{ name: "{wf}[0].a", phase: "Failed" }]);
    expect(message).toContain('node "wf[0].a" phase: expected Failed, got Succeeded');
  });

  it("fails on a wrong type", () => {
    const message = failureOf(steps, [{ name: "{wf}[0].b", type: "Pod" }]);
    expect(message).toContain('node "wf[0].b" type: expected Pod, got Skipped');
  });

  it("fails on a missing node and lists the nodes that exist", () => {
    const message = failureOf(steps, [{ name: "{wf}[0].c", type: "Pod" }]);
    expect(message).toContain('node "wf[0].c" is missing');
    expect(message).toContain("wf[0].a");
  });

  it("fails when a node expected absent is present", () => {
    const message = failureOf(steps, [{ name: "{wf}[0].a", absent: true }]);
    expect(message).toContain('node "wf[0].a" should not exist');
  });

  it("fails on different children, missing or extra", () => {
    expect(failureOf(steps, [{ name: "{wf}[0]", children: ["{wf}[0].a"] }])).toContain(
      'node "wf[0]" children: expected [wf[0].a], got [wf[0].a, wf[0].b]',
    );
    expect(failureOf(steps, [{ name: "{wf}[0].a", children: ["{wf}[1]"] }])).toContain(
      'node "wf[0].a" children: expected [wf[1]], got []',
    );
  });

  it("reports every mismatch at once", () => {
    const message = failureOf(steps, [
      { name: "{wf}", phase: "Failed" },
      { name: "{wf}[0].b", absent: true },
    ]);
    expect(message).toContain("2 node check(s) failed");
  });

  it("names the example file when the checks come from NODE_CHECKS", () => {
    const message = failureOf(steps, NODE_CHECKS["steps.yaml"]!);
    expect(message).toContain("steps.yaml:");
  });
});

describe("NODE_CHECKS", () => {
  it("covers at least 40 examples", () => {
    expect(Object.keys(NODE_CHECKS).length).toBeGreaterThanOrEqual(40);
  });

  it("names every node in the `{wf}` form and never checks one node twice", () => {
    for (const [file, checks] of Object.entries(NODE_CHECKS)) {
      const names = checks.map((c) => c.name);
      for (const name of [...names, ...checks.flatMap((c) => c.children ?? [])]) {
        expect(name.startsWith("{wf}"), `${file}: ${name}`).toBe(true);
      }
      expect(new Set(names).size, `${file}: duplicate checks`).toBe(names.length);
    }
  });

  it("never lists as a child a node that the same example expects to be absent", () => {
    for (const [file, checks] of Object.entries(NODE_CHECKS)) {
      const absentNames = new Set(checks.filter((c) => c.absent).map((c) => c.name));
      for (const c of checks) {
        for (const child of c.children ?? [])
          expect(absentNames.has(child), `${file}: ${c.name} -> ${child}`).toBe(false);
      }
    }
  });
});

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

describe.skipIf(!CORPUS_PRESENT)("NODE_CHECKS against EXPECTED.tsv", () => {
  const rows = CORPUS_PRESENT ? new Map(expectedRuns().map((r) => [r.file, r])) : new Map();

  it("only names examples that the conformance test runs", () => {
    const unknown = Object.keys(NODE_CHECKS).filter((file) => !rows.has(file));
    expect(unknown).toEqual([]);
  });

  it("gives the root node a phase that agrees with the example's expected workflow phase", () => {
    for (const [file, checks] of Object.entries(NODE_CHECKS)) {
      const root = checks.find((c) => c.name === "{wf}");
      if (!root?.phase) continue;
      expect(rows.get(file)?.phases, file).toContain(root.phase);
    }
  });
});
