import { describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import { cleanFields, compareWorkflows, parseListFilter, withArgoLabels } from "../../../src/server/list.js";

const wf = (name: string, phase: string, extra: Partial<Workflow["status"]> = {}, labels = {}): Workflow =>
  withArgoLabels({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: {
      name,
      namespace: "default",
      labels,
      creationTimestamp: `2026-01-01T00:00:0${name.length % 10}Z`,
    },
    spec: {},
    status: { phase: phase as "Running", ...extra },
  });

describe("server list options", () => {
  it("keeps and drops fields as Argo's fields parameter does", () => {
    const value = {
      metadata: { name: "a", uid: "u" },
      items: [{ status: { phase: "Running", nodes: {} }, spec: {} }],
    };
    expect(cleanFields(value, "metadata.name,items.status.phase")).toEqual({
      metadata: { name: "a" },
      items: [{ status: { phase: "Running" } }],
    });
    expect(cleanFields(value, "-items.status.nodes,-metadata.uid")).toEqual({
      metadata: { name: "a" },
      items: [{ status: { phase: "Running" }, spec: {} }],
    });
    expect(cleanFields(value, null)).toBe(value);
  });

  it("selects by set-based labels, names, prefixes and start times", () => {
    const q = (s: string) => parseListFilter(new URLSearchParams(s), "default");
    const running = wf("build", "Running", { startedAt: "2026-01-01T10:00:00Z" }, { team: "a" });
    const done = wf("build-2", "Succeeded", {
      startedAt: "2026-01-02T10:00:00Z",
      finishedAt: "2026-01-02T11:00:00Z",
    });
    const phaseIn = q("listOptions.labelSelector=workflows.argoproj.io/phase in (Running,Pending),team=a");
    expect([running, done].filter((w) => phaseIn.matches(w))).toEqual([running]);
    const notin = q("listOptions.labelSelector=team notin (a)");
    expect([running, done].filter((w) => notin.matches(w))).toEqual([done]);
    const prefix = q("listOptions.fieldSelector=metadata.name=build-&nameFilter=Prefix");
    expect([running, done].filter((w) => prefix.matches(w))).toEqual([done]);
    const after = q("listOptions.fieldSelector=spec.startedAt>2026-01-02T00:00:00Z");
    expect([running, done].filter((w) => after.matches(w))).toEqual([done]);
    expect(q("listOptions.fieldSelector=metadata.name=build").name).toBe("build");
  });

  it("refuses what Argo refuses, with SKF-SRV-004", () => {
    const q = (s: string) => () => parseListFilter(new URLSearchParams(s), "default");
    expect(q("listOptions.continue=abc")).toThrow(expect.objectContaining({ code: "SKF-SRV-004" }));
    expect(q("listOptions.fieldSelector=status.phase=Running")).toThrow(/unsupported requirement/);
    expect(q("listOptions.fieldSelector=metadata.namespace=other")).toThrow(/does not match/);
    expect(q("createdAfter=yesterday")).toThrow(/RFC 3339/);
  });

  it("orders unfinished workflows first, then the newest finished", () => {
    const a = wf("a", "Succeeded", { finishedAt: "2026-01-01T00:00:00Z" });
    const b = wf("bb", "Succeeded", { finishedAt: "2026-01-03T00:00:00Z" });
    const c = wf("ccc", "Running");
    expect([a, b, c].sort(compareWorkflows).map((w) => w.metadata.name)).toEqual(["ccc", "bb", "a"]);
  });
});
