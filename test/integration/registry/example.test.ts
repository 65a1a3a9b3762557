import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CronWorkflow, Workflow } from "../../../runtime/spec/types.js";
import { cli, cliSuite, ROOT } from "../durable/helpers.js";

/* examples/cron run as their comments tell a user to run them, with the CLI bundle. */

const suite = cliSuite();
const example = (name: string) => join(ROOT, "examples/cron", name);

describe("examples/cron", () => {
  it("registers the template and the CronWorkflow, runs a workflow through templateRef and one cron run", async () => {
    const t = suite.trial();
    const skiff = (...args: string[]) => cli(suite.path, t, args);
    expect((await skiff("template", "create", example("greeting-template.yaml"))).stdout).toBe("greeting\n");
    const run = await skiff("run", example("hello-from-template.yaml"), "--logs", "-o", "json");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("hello, templateRef");
    expect((JSON.parse(run.stdout) as Workflow).status?.phase).toBe("Succeeded");

    const created = await skiff("cron", "create", example("nightly.yaml"));
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
    const once = await skiff("run", example("nightly.yaml"), "--logs");
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toContain("hello, the night shift");
  }, 600_000);
});
