import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Workflow } from "../../../runtime/spec/types.js";
import { defaultConfig } from "../../../src/config/index.js";
import { matchNodes } from "../../../src/cli/commands/control.js";
import { recoverWorkflow, runSource } from "../../../src/run/recover.js";
import { readSource, SOURCE_ANNOTATION } from "../../../src/run/store.js";

const wf = (annotations?: Record<string, string>): Workflow => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Workflow",
  metadata: { name: "w1", namespace: "default", ...(annotations ? { annotations } : {}) },
  spec: {},
  status: {
    phase: "Running",
    nodes: {
      "w1-1": { id: "w1-1", name: "w1[0].build", displayName: "build", type: "Pod", phase: "Succeeded" },
      "w1-2": { id: "w1-2", name: "w1[1].test", displayName: "test", type: "Pod", phase: "Running" },
    } as never,
  },
});

describe("recovery source", () => {
  it("records absolute paths and reads them back from the annotation", () => {
    const s = runSource(
      ["a.yaml"],
      { file: "a.yaml", docIndex: 1 },
      { parameters: { p: "1" }, workspace: "ws" },
    );
    expect(s).toEqual({
      paths: [resolve("a.yaml")],
      file: resolve("a.yaml"),
      docIndex: 1,
      parameters: { p: "1" },
      workspace: resolve("ws"),
    });
    expect(readSource(wf({ [SOURCE_ANNOTATION]: JSON.stringify(s) }))).toEqual(s);
    expect(readSource(wf({ [SOURCE_ANNOTATION]: "{not json" }))).toBeUndefined();
  });

  it("refuses to continue a workflow without a recorded source (SKF-RUN-006)", async () => {
    await expect(recoverWorkflow(wf(), defaultConfig())).rejects.toMatchObject({ code: "SKF-RUN-006" });
  });

  it("refuses one whose source file is gone, naming it", async () => {
    const s = runSource(
      ["/nonexistent/x.yaml"],
      { file: "/nonexistent/x.yaml", docIndex: 0 },
      { parameters: {} },
    );
    await expect(
      recoverWorkflow(wf({ [SOURCE_ANNOTATION]: JSON.stringify(s) }), defaultConfig()),
    ).rejects.toMatchObject({
      code: "SKF-RUN-006",
      message: expect.stringContaining("/nonexistent/x.yaml"),
    });
  });
});

describe("logs --node", () => {
  it("matches a node by id, full name or display name", () => {
    expect(matchNodes(wf(), "w1-2")).toEqual(["w1-2"]);
    expect(matchNodes(wf(), "w1[0].build")).toEqual(["w1-1"]);
    expect(matchNodes(wf(), "test")).toEqual(["w1-2"]);
    expect(matchNodes(wf(), "deploy")).toEqual([]);
  });
});
