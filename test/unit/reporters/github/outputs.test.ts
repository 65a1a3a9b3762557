import { describe, expect, it } from "vitest";
import { expectGolden } from "../../../helpers/golden.js";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { SkiffError } from "../../../../runtime/errors/index.js";
import type { ControllerEvent } from "../../../../runtime/interfaces/events.js";
import type { Workflow } from "../../../../runtime/spec/types.js";
import { parseLogAnnotation, workflowCommand } from "../../../../src/reporters/github-checks/annotations.js";
import {
  conclusionOf,
  GITHUB_TEXT_LIMIT,
  maskSecrets,
  truncateMarkdown,
} from "../../../../src/reporters/github-checks/markdown.js";
import { renderStepOutput, renderWorkflowOutput } from "../../../../src/reporters/github-checks/outputs.js";
import { renderJobSummary } from "../../../../src/reporters/job-summary/index.js";
import { CI_TEXT, compilePipeline, WorkflowSim } from "./sim.js";

/** The ci pipeline played to a failure, with outputs, a retry and a log. */
function failedRun(): { wf: Workflow; logs: string[] } {
  const clock = new FakeClock({ start: Date.UTC(2026, 0, 1, 12) });
  const events: ControllerEvent[] = [];
  const sim = new WorkflowSim(compilePipeline(CI_TEXT), (e) => events.push(e), clock);
  sim.start();
  sim.node("lint", { phase: "Running" });
  sim.node("build", { phase: "Running", inputs: { parameters: [{ name: "target", value: "linux" }] } });
  clock.advance(12_000);
  sim.node("lint", { phase: "Succeeded" });
  sim.node("build", {
    phase: "Succeeded",
    outputs: {
      parameters: [{ name: "version", value: "1.2.3" }],
      result: "built with s3cr3t-value",
      exitCode: "0",
      artifacts: [{ name: "dist" }],
    },
  });
  sim.node("test", { phase: "Running" });
  clock.advance(65_000);
  sim.node("test", { phase: "Failed", message: "Error (exit code 1)", outputs: { exitCode: "1" } });
  sim.node("deploy", { type: "Skipped", phase: "Omitted", message: "omitted: depends condition not met" });
  clock.advance(1_000);
  const wf = sim.finish("Failed", "child 'ci-abcde-test' failed");
  wf.status!.outputs = { parameters: [{ name: "coverage", value: "81%" }] };
  return {
    wf,
    logs: [
      "> npm test",
      "FAIL src/app.test.ts",
      "  src/app.test.ts:14:5: expected 2, got 3",
      "token=s3cr3t-value",
    ],
  };
}

const CTX = {
  pipeline: "ci",
  secrets: ["s3cr3t-value"],
  now: Date.UTC(2026, 0, 1, 13),
  jobUrl: "https://github.com/acme/app/actions/runs/42",
};

describe("check-run markdown", () => {
  it("renders a failed step's check (golden)", () => {
    const { wf, logs } = failedRun();
    const node = wf.status!.nodes!["ci-abcde-test"]!;
    const out = renderStepOutput(wf, node, { lines: logs, omitted: 120 }, CTX);
    expectGolden("github/step-failed.md", `# ${out.title}\n\n${out.summary}\n---\n${out.text}`);
    expect(JSON.stringify(out)).not.toContain("s3cr3t-value");
  });

  it("renders a succeeded step with parameters and outputs (golden)", () => {
    const { wf } = failedRun();
    const out = renderStepOutput(wf, wf.status!.nodes!["ci-abcde-build"]!, { lines: [], omitted: 0 }, CTX);
    expectGolden("github/step-succeeded.md", `# ${out.title}\n\n${out.summary}`);
    expect(out.text).toBeUndefined();
  });

  it("renders the workflow's check with the table and a Mermaid graph coloured by phase (golden)", () => {
    const { wf } = failedRun();
    const out = renderWorkflowOutput(wf, CTX, { notes: ["An example note."] });
    expectGolden("github/workflow-failed.md", `# ${out.title}\n\n${out.summary}\n---\n${out.text}`);
    expect(out.text).toContain("classDef failed fill:#cf222e");
    expect(out.text).toMatch(/n\d+\["❌ test"\]:::failed/);
  });

  it("renders the job summary for every pipeline (golden)", () => {
    const { wf } = failedRun();
    const md = renderJobSummary(
      [
        { pipeline: "ci", workflow: wf },
        { pipeline: "docs", notRun: "no changed file matches docs/**" },
        {
          pipeline: "release",
          error: new SkiffError("SKF-SPEC-042", "failed to resolve {{workflow.parameters.tag}}", {
            position: { file: ".skiff/release.yaml", line: 9, column: 5 },
          }),
        },
      ],
      { secrets: CTX.secrets, now: CTX.now, jobUrl: CTX.jobUrl, notes: ["Check runs could not be created."] },
    );
    expectGolden("github/job-summary.md", md);
    expect(md).not.toContain("s3cr3t-value");
  });

  it("truncates to GitHub's limit with a visible notice", () => {
    const long = "x".repeat(100) + "\n" + "```text\n" + "line\n".repeat(20_000) + "```\n";
    const cut = truncateMarkdown(long);
    expect(cut.length).toBeLessThanOrEqual(GITHUB_TEXT_LIMIT);
    expect(cut).toContain("Output truncated");
    expect((cut.match(/```/g) ?? []).length % 2).toBe(0);
    expect(truncateMarkdown("short")).toBe("short");
  });

  it("masks overlapping secrets whole and ignores very short ones", () => {
    expect(maskSecrets("abc abcdef ab", ["abc", "abcdef", "ab"])).toBe("*** *** ab");
  });

  it("maps phases to conclusions", () => {
    expect(conclusionOf("Succeeded")).toBe("success");
    expect(conclusionOf("Failed", "Error (exit code 1)")).toBe("failure");
    expect(conclusionOf("Error", "Step exceeded its deadline")).toBe("timed_out");
    expect(conclusionOf("Failed", "Stopped with strategy 'Stop'")).toBe("cancelled");
    expect(conclusionOf("Omitted")).toBe("skipped");
  });
});

describe("log annotations", () => {
  const opts = { workspace: "/repo", defaultLevel: "failure" as const };
  it.each([
    [
      "src/a.ts:10:5: error: bad thing",
      {
        path: "src/a.ts",
        start_line: 10,
        start_column: 5,
        annotation_level: "failure",
        message: "bad thing",
      },
    ],
    [
      "/repo/src/b.go:7: unused import",
      { path: "src/b.go", start_line: 7, annotation_level: "failure", message: "unused import" },
    ],
    [
      "src/c.ts(3,9): error TS2322: Type 'x' is not assignable",
      { path: "src/c.ts", start_line: 3, start_column: 9, message: "TS2322: Type 'x' is not assignable" },
    ],
    [
      "lib/d.py:22:1: warning: E302 expected 2 blank lines",
      { path: "lib/d.py", annotation_level: "warning" },
    ],
    [
      "\u001b[31msrc/e.rs:4:2: error: mismatched types\u001b[0m",
      { path: "src/e.rs", message: "mismatched types" },
    ],
  ])("reads %j", (line, expected) => {
    expect(parseLogAnnotation(line, opts)).toMatchObject(expected);
  });

  it.each([
    "Downloading https://example.com/a.tgz:443: done",
    "/etc/passwd:1: outside the checkout",
    "../other/x.ts:1: outside",
    "12:30:01: just a time",
    "plain text",
  ])("ignores %j", (line) => {
    expect(parseLogAnnotation(line, opts)).toBeUndefined();
  });

  it("formats workflow commands with GitHub's escaping", () => {
    expect(
      workflowCommand({
        path: "src/a,b.ts",
        start_line: 3,
        end_line: 3,
        start_column: 2,
        annotation_level: "failure",
        title: "Step test: failed",
        message: "100% broken\nsecond line",
      }),
    ).toBe("::error file=src/a%2Cb.ts,line=3,col=2,title=Step test%3A failed::100%25 broken%0Asecond line");
  });
});

describe("step names", () => {
  it("are relative to the workflow, without step-group indexes", async () => {
    const { stepName } = await import("../../../../src/reporters/github-checks/markdown.js");
    const node = (name: string) => ({
      id: name,
      name,
      displayName: "d",
      type: "Pod" as const,
      phase: "Running" as const,
    });
    expect(stepName(node("wf.build"), "wf")).toBe("build");
    expect(stepName(node("wf[0].hello"), "wf")).toBe("hello");
    expect(stepName(node("wf[1].outer[0].inner(0:a)"), "wf")).toBe("outer.inner(0:a)");
    expect(stepName(node("wf.onExit"), "wf")).toBe("onExit");
    expect(stepName(node("other"), "wf")).toBe("d");
    expect(stepName({ ...node("wf"), templateName: "flaky" }, "wf")).toBe("flaky");
  });
});
