import { describe, expect, it } from "vitest";
import type { DependencyResult } from "../../../runtime/expr/index.js";
import {
  checkExpressionSyntax,
  dependenciesToDepends,
  dependsTaskNames,
  evaluateDepends,
} from "../../../runtime/expr/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";

const results: Record<string, DependencyResult> = {
  ok: { phase: "Succeeded" },
  failed: { phase: "Failed" },
  errored: { phase: "Error" },
  skipped: { phase: "Skipped" },
  omitted: { phase: "Omitted" },
  running: { phase: "Running" },
  daemon: { phase: "Running", daemoned: true },
  "pending-daemon": { phase: "Pending", daemoned: true },
  "failed-continue": { phase: "Failed", continueOn: { failed: true } },
  "errored-continue": { phase: "Error", continueOn: { error: true } },
  "errored-failed-only": { phase: "Error", continueOn: { failed: true } },
  loop: { phase: "Failed", isLoop: true, anySucceeded: true, allFailed: false },
  "loop-all-failed": { phase: "Failed", isLoop: true, anySucceeded: false, allFailed: true },
  "not-loop": { phase: "Succeeded", isLoop: false, anySucceeded: true },
  my_task: { phase: "Succeeded" },
};

describe("evaluateDepends", () => {
  it.each([
    ["ok", true],
    ["skipped", true],
    ["daemon", true],
    ["pending-daemon", false],
    ["failed", false],
    ["errored", false],
    ["omitted", false],
    ["running", false],
    ["never-created", false],
    ["failed-continue", true],
    ["errored-continue", true],
    ["errored-failed-only", false],
    ["ok.Succeeded", true],
    ["failed.Failed", true],
    ["errored.Errored", true],
    ["errored.Failed", false],
    ["skipped.Skipped", true],
    ["omitted.Omitted", true],
    ["daemon.Daemoned", true],
    ["ok.Daemoned", false],
    ["loop.AnySucceeded", true],
    ["loop.AllFailed", false],
    ["loop-all-failed.AllFailed", true],
    ["not-loop.AnySucceeded", false],
    ["ok && skipped", true],
    ["ok && failed", false],
    ["ok || failed", true],
    ["!failed", true],
    ["failed.Failed && ok", true],
    ["(failed.Failed || errored.Errored) && !omitted.Succeeded", true],
    ["ok and not failed", true],
    ["failed or omitted", false],
    ["my_task", true],
    ["", true],
    ["ok && (failed || skipped)", true],
    ["!(ok)", false],
  ])("%s -> %s", (depends, expected) => {
    expect(evaluateDepends(depends, results)).toBe(expected);
  });

  it("treats || and && with usual precedence", () => {
    expect(evaluateDepends("failed && ok || skipped", results)).toBe(true);
    expect(evaluateDepends("skipped || ok && failed", results)).toBe(true);
    expect(evaluateDepends("(skipped || ok) && failed", results)).toBe(false);
  });

  it("rejects unknown results with the column", () => {
    try {
      evaluateDepends("ok && failed.Broken", results);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SkiffError);
      expect((e as SkiffError).code).toBe("SKF-EXPR-011");
      expect((e as SkiffError).position?.column).toBe(14);
    }
  });

  it("rejects syntax errors", () => {
    expect(() => evaluateDepends("ok &&", results)).toThrow(/unexpected end of expression/);
    expect(() => evaluateDepends("(ok", results)).toThrow(/expected '\)'/);
    expect(() => evaluateDepends("ok ok", results)).toThrow(/unexpected 'ok'/);
    expect(() => evaluateDepends("ok & failed", results)).toThrow(/unexpected character '&'/);
  });
});

describe("dependenciesToDepends", () => {
  it("joins names with &&", () => {
    expect(dependenciesToDepends(["A", "B-c"])).toBe("A && B-c");
    expect(dependenciesToDepends([])).toBe("");
  });

  it("is equivalent to the bare-name semantics, continueOn included", () => {
    const text = dependenciesToDepends(["failed-continue", "ok"]);
    expect(evaluateDepends(text, results)).toBe(true);
  });
});

describe("dependsTaskNames", () => {
  it("lists each task once, in order", () => {
    expect(dependsTaskNames("B && (C.Failed || !B.Skipped) && my-task-2")).toEqual(["B", "C", "my-task-2"]);
  });

  it("throws on syntax errors", () => {
    expect(() => dependsTaskNames("A &&& B")).toThrow(SkiffError);
  });
});

describe("checkExpressionSyntax depends", () => {
  it("returns problems instead of throwing", () => {
    expect(checkExpressionSyntax("A && B.Succeeded", "depends")).toEqual([]);
    const problems = checkExpressionSyntax("A && B.Nope", "depends");
    expect(problems).toHaveLength(1);
    expect(problems[0]?.column).toBe(8);
    expect(problems[0]?.message).toMatch(/^unknown result 'Nope' for task 'B'/);
  });
});
