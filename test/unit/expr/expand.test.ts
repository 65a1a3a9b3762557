import { describe, expect, it } from "vitest";
import { expandVars } from "../../../runtime/expr/index.js";

describe("expandVars (Argo util/expand)", () => {
  it("nests dotted keys", () => {
    expect(expandVars({ "a.b.c": "1", "a.d": "2", e: "3" })).toEqual({
      a: { b: { c: "1" }, d: "2" },
      e: "3",
    });
  });

  it("drops the less specific key when a more specific one follows it in sorted order", () => {
    expect(expandVars({ "workflow.parameters": "[...]", "workflow.parameters.x": "1" })).toEqual({
      workflow: { parameters: { x: "1" } },
    });
  });

  it("keeps the map for a clash that sorting does not put side by side", () => {
    const out = expandVars({ item: '{"a":"1"}', "item-x": "y", "item.a": "1" });
    expect(out.item).toEqual({ a: "1" });
    expect(out["item-x"]).toBe("y");
  });

  it("keeps absent optionals as nil and accepts a Map", () => {
    expect(expandVars(new Map([["steps.a.outputs.parameters.p", null]]))).toEqual({
      steps: { a: { outputs: { parameters: { p: null } } } },
    });
  });

  it("keeps plain values as they are", () => {
    const data = [1, 2];
    expect(expandVars({ data }).data).toBe(data);
  });
});
