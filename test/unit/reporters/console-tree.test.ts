import { describe, expect, it } from "vitest";
import { formatDuration, renderNodeTree, renderSummary } from "../../../src/reporters/console/tree.js";
import { createConsoleReporter } from "../../../src/reporters/console/live.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { nodeId } from "../../../runtime/spec/index.js";
import { expectGolden } from "../../helpers/golden.js";
import { Writable } from "node:stream";

const WF = "steps-x7k2p";
const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace(".000Z", "Z");

function node(
  name: string,
  type: NodeStatus["type"],
  phase: NodeStatus["phase"],
  extra: Partial<NodeStatus> = {},
): NodeStatus {
  const id = name === WF ? WF : nodeId(WF, name);
  return { id, name, displayName: name, type, phase, startedAt: at(0), finishedAt: at(3), ...extra };
}

/** A steps workflow as Argo would record it: hello1, then hello2a || hello2b, the last one failed. */
function stepsWorkflow(): Workflow {
  const id = (n: string) => (n === WF ? WF : nodeId(WF, n));
  const nodes = [
    node(WF, "Steps", "Failed", {
      templateName: "main",
      children: [id(`${WF}[0]`)],
      message: "child failed",
    }),
    node(`${WF}[0]`, "StepGroup", "Succeeded", {
      displayName: "[0]",
      boundaryID: WF,
      children: [id(`${WF}[0].hello1`)],
    }),
    node(`${WF}[0].hello1`, "Pod", "Succeeded", {
      displayName: "hello1",
      templateName: "print",
      boundaryID: WF,
      children: [id(`${WF}[1]`)],
      inputs: { parameters: [{ name: "message", value: "hello1" }] },
      outputs: { result: "hello1", exitCode: "0" },
    }),
    node(`${WF}[1]`, "StepGroup", "Failed", {
      displayName: "[1]",
      boundaryID: WF,
      startedAt: at(3),
      children: [id(`${WF}[1].hello2a`), id(`${WF}[1].hello2b`)],
    }),
    node(`${WF}[1].hello2a`, "Pod", "Succeeded", {
      displayName: "hello2a",
      templateName: "print",
      boundaryID: WF,
      startedAt: at(3),
      finishedAt: at(5),
    }),
    node(`${WF}[1].hello2b`, "Pod", "Failed", {
      displayName: "hello2b",
      templateName: "print",
      boundaryID: WF,
      startedAt: at(4),
      finishedAt: at(75),
      message: "main: Error (exit code 1)",
    }),
  ];
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: WF, namespace: "default" },
    spec: { entrypoint: "main", arguments: { parameters: [{ name: "who", value: "world" }] } },
    status: {
      phase: "Failed",
      message: "child failed",
      startedAt: at(0),
      finishedAt: at(75),
      progress: "2/3",
      nodes: Object.fromEntries(nodes.map((n) => [n.id, n])),
    },
  };
}

describe("console tree", () => {
  it("renders steps the way `argo get` does", () => {
    const wf = stepsWorkflow();
    expectGolden(
      "console-tree-steps.txt",
      [...renderSummary(wf, T0), "", ...renderNodeTree(wf, { now: T0 })].join("\n") + "\n",
    );
  });

  it("adds inputs and outputs with -o wide", () => {
    expectGolden(
      "console-tree-steps-wide.txt",
      renderNodeTree(stepsWorkflow(), { wide: true, now: T0 }).join("\n") + "\n",
    );
  });

  it("formats durations like argo", () => {
    expect([0, 4_600, 60_000, 83_000, 3_600_000, 7_500_000].map(formatDuration)).toEqual([
      "0s",
      "5s",
      "1m",
      "1m23s",
      "1h",
      "2h5m",
    ]);
  });

  it("prints one line per phase change when not on a terminal, and prefixed logs", () => {
    let text = "";
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const r = createConsoleReporter({ out, logOut: out, live: false, logs: true });
    const wf = stepsWorkflow();
    const n = wf.status!.nodes![nodeId(WF, `${WF}[1].hello2b`)]!;
    r.onEvent({ type: "node-updated", workflow: wf, node: n, previousPhase: "Running" });
    r.onEvent({
      type: "log",
      workflowName: WF,
      line: { nodeId: n.id, container: "main", stream: "stdout", time: at(4), text: "boom" },
    });
    expect(text).toBe("✖ hello2b Failed: main: Error (exit code 1)\nhello2b: boom\n");
  });
});
