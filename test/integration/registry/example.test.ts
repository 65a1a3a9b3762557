import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CronWorkflow, Workflow } from "../../../runtime/spec/types.js";
import { ROOT } from "../durable/helpers.js";

/* examples/cron run as its comments tell a user to run them: the CLI from source, from the repository root. */

const state = mkdtempSync(join(tmpdir(), "skiff-examples-cron-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

function skiff(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/index.ts", ...args],
      { cwd: ROOT, env: { ...process.env, SKIFF_STATE_DIR: state, CI: "1" }, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("examples/cron", () => {
  it("registers the template and the CronWorkflow, runs a workflow through templateRef and one cron run", async () => {
    expect((await skiff("template", "create", "examples/cron/greeting-template.yaml")).stdout).toBe(
      "greeting\n",
    );
    const run = await skiff("run", "examples/cron/hello-from-template.yaml", "--logs", "-o", "json");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("hello, templateRef");
    expect((JSON.parse(run.stdout) as Workflow).status?.phase).toBe("Succeeded");

    const created = await skiff("cron", "create", "examples/cron/nightly.yaml");
    expect(created.code, created.stderr).toBe(0);
    const cron = JSON.parse(
      (await skiff("cron", "get", "nightly-greeting", "-o", "json")).stdout,
    ) as CronWorkflow;
    expect(cron.spec.timezone).toBe("Europe/Berlin");

    const submitted = await skiff("submit", "--from", "cronwf/nightly-greeting", "--wait");
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toMatch(
      /^nightly-greeting-[a-z0-9]{5}\nnightly-greeting-[a-z0-9]{5} Succeeded\n$/,
    );

    // skiff run of a CronWorkflow file runs its workflowSpec once, now.
    const once = await skiff("run", "examples/cron/nightly.yaml", "--logs");
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toContain("hello, the night shift");
  }, 180_000);
});
