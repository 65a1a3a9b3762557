import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { createJobSummaryReporter } from "../../../../src/reporters/job-summary/reporter.js";
import { CI_TEXT, compilePipeline, WorkflowSim } from "./sim.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function summaryFile(): string {
  dir = mkdtempSync(join(tmpdir(), "skiff-summary-"));
  const file = join(dir, "summary.md");
  writeFileSync(file, "");
  return file;
}

describe("job summary reporter", () => {
  it("says what the check runs grouped, and appends a warning that comes after it was written", async () => {
    const file = summaryFile();
    const clock = new FakeClock({ start: Date.UTC(2026, 0, 1) });
    const summary = createJobSummaryReporter({
      file,
      clock,
      secrets: ["s3cr3t-value"],
      reportingNotes: () => ["ci: the 1000 items of loop `fan` are reported as one check run"],
    });
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(compiled, () => {}, clock);
    sim.start();
    const wf = sim.finish("Succeeded");
    summary.onEvent({ type: "workflow-completed", index: 0, pipeline: "ci", workflow: wf });
    summary.note("written before");
    await summary.finish();
    summary.note("Check runs could not be written (token s3cr3t-value refused)");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("> [!NOTE]\n> ci: the 1000 items of loop `fan` are reported as one check run\n");
    expect(text.indexOf("written before")).toBeLessThan(text.indexOf("| | Pipeline |"));
    expect(
      text.trimEnd().endsWith("> [!WARNING]\n> Check runs could not be written (token *** refused)"),
    ).toBe(true);
  });
});
