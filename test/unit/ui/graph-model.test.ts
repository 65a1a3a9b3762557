import { describe, expect, it } from "vitest";
import { collapsedId, listNodes, podNameOf, prepareGraph } from "../../../src/ui/app/graph/model.js";
import { parseAnsi, stripAnsi } from "../../../src/ui/app/ansi.js";
import type { NodeStatus, Workflow } from "../../../src/ui/app/types.js";

function wf(nodes: NodeStatus[]): Workflow {
  return {
    metadata: { name: "wf", namespace: "argo" },
    status: { phase: "Running", nodes: Object.fromEntries(nodes.map((n) => [n.id, n])) },
  };
}

const node = (
  id: string,
  type: string,
  children: string[] = [],
  extra: Partial<NodeStatus> = {},
): NodeStatus => ({
  id,
  name: id === "wf" ? "wf" : `wf.${id}`,
  displayName: id,
  type,
  phase: "Succeeded",
  children,
  ...extra,
});

describe("prepareGraph", () => {
  it("walks steps as groups, hides step groups and collapses a loop above the threshold", () => {
    const items = Array.from({ length: 10 }, (_, i) => `item${i}`);
    const w = wf([
      node("wf", "Steps", ["g0"]),
      node("g0", "StepGroup", items),
      ...items.map((id) => node(id, "Pod", ["g1"])),
      node("g1", "StepGroup", ["last"]),
      node("last", "Pod"),
    ]);
    const g = prepareGraph(w);
    const ids = g.nodes.map((n) => n.id);
    expect(ids).toEqual(["wf", "g0", collapsedId("g0"), "item0", "g1", "last", "item9"]);
    expect(g.nodes.find((n) => n.id === "g0")?.kind).toBe("hidden");
    expect(g.nodes.find((n) => n.id === collapsedId("g0"))?.label).toBe("8 hidden nodes");
    const expanded = prepareGraph(w, { expanded: new Set(["g0"]) });
    expect(expanded.nodes.filter((n) => n.kind === "node")).toHaveLength(12);
    expect(expanded.shape).not.toBe(g.shape);
    // A phase change keeps the shape: no new layout.
    const again = structuredClone(w);
    (again.status!.nodes!.last as NodeStatus).phase = "Failed";
    expect(prepareGraph(again).shape).toBe(g.shape);
  });

  it("links the exit handler from the root's outbound nodes and hooks from their owner", () => {
    const w = wf([
      node("wf", "DAG", ["a"], { outboundNodes: ["b"] }),
      node("a", "Pod", ["b"]),
      node("b", "Retry", ["b0"]),
      node("b0", "Pod", [], { name: "wf.b(0)" }),
      { ...node("exit", "Pod"), name: "wf.onExit" },
      { ...node("hook", "Pod"), name: "wf.a.hooks.running" },
    ]);
    const g = prepareGraph(w);
    expect(g.edges).toContainEqual(expect.objectContaining({ source: "b", target: "exit", kind: "onExit" }));
    expect(g.edges).toContainEqual(expect.objectContaining({ source: "a", target: "hook", kind: "hook" }));
    expect(g.nodes.map((n) => n.id)).toContain("b0");
    expect(listNodes(w).map((n) => n.id)).toEqual(["wf", "a", "b", "b0", "exit", "hook"]);
  });

  it("names pods as Argo's v2 pod names", () => {
    const w = wf([node("wf", "Steps"), { ...node("x", "Pod"), name: "wf[0].hello", templateName: "hello" }]);
    expect(podNameOf(w, w.status!.nodes!.x as NodeStatus)).toMatch(/^wf-hello-\d+$/);
    expect(podNameOf(w, w.status!.nodes!.wf as NodeStatus)).toBe("wf");
  });
});

describe("parseAnsi", () => {
  it("renders SGR colours and drops other escapes", () => {
    const segs = parseAnsi("plain \u001b[1;31mred bold\u001b[0m \u001b[38;5;196mx\u001b[2K");
    expect(segs.map((s) => s.text)).toEqual(["plain ", "red bold", " ", "x"]);
    expect(segs[1]?.classes).toEqual(["ansi-fg-1", "ansi-bold"]);
    expect(segs[3]?.color).toBe("rgb(255,0,0)");
    expect(stripAnsi("\u001b[32mok\u001b[0m")).toBe("ok");
  });
});
