import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CronWorkflow, Workflow, WorkflowTemplate } from "../../../runtime/spec/types.js";
import { cli, cliSuite, ROOT, stored, type Trial } from "../durable/helpers.js";

/*
 * The registry verbs end to end: the CLI bundle as users run it, the embedded store, real step processes
 * (host executor, no sandbox) for the runs that resolve their templates from the registry.
 */

const FIXTURES = join(ROOT, "test/integration/registry/fixtures");
const fixture = (name: string) => join(FIXTURES, name);
const NO_SANDBOX = ["--sandbox", "none"];
/** Each test starts a dozen CLI processes; on a loaded machine that takes minutes. */
const SLOW = 600_000;

const suite = cliSuite();
const skiff = (t: Trial, ...args: string[]) => cli(suite.path, t, args);
const said = (t: Trial) => readFileSync(join(t.workspace, "said.txt"), "utf8");

describe("skiff template, cluster-template, cron", () => {
  it(
    "creates, lists, gets and deletes WorkflowTemplates, with Argo's metadata and coded refusals",
    async () => {
      const t = suite.trial();
      const created = await skiff(t, "template", "create", fixture("greet-template.yaml"));
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toBe("greet\n");
      const again = await skiff(t, "template", "create", fixture("greet-template.yaml"));
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/SKF-REG-001 WorkflowTemplate default\/greet already exists/);

      const got = await skiff(t, "template", "get", "greet", "-o", "json");
      const wft = JSON.parse(got.stdout) as WorkflowTemplate;
      expect(wft.metadata).toMatchObject({ name: "greet", namespace: "default", resourceVersion: "1" });
      expect(wft.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect((await skiff(t, "template", "list")).stdout).toBe("NAME\ngreet\n");
      expect((await skiff(t, "template", "list", "-o", "wide")).stdout).toMatch(
        /^NAME +NAMESPACE +AGE +ENTRYPOINT\ngreet +default +\S+ +say\n$/,
      );
      expect((await skiff(t, "template", "get", "greet")).stdout).toMatch(
        /^Name: +greet\nNamespace: +default\n/,
      );

      const bad = await skiff(t, "template", "create", fixture("bad-template.yaml"));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/bad-template\.yaml:11:\d+: SKF-SPEC-\d+ .*does-not-exist/);
      expect((await skiff(t, "template", "lint", fixture("bad-template.yaml"))).code).toBe(2);
      expect((await skiff(t, "template", "lint", fixture("greet-template.yaml"))).code).toBe(0);
      const wrongKind = await skiff(t, "template", "create", fixture("nightly-cron.yaml"));
      expect(wrongKind.stderr).toMatch(/SKF-REG-002 expected a WorkflowTemplate, found a CronWorkflow/);

      const deleted = await skiff(t, "template", "delete", "greet");
      expect(deleted.stdout).toBe("WorkflowTemplate 'greet' deleted\n");
      const gone = await skiff(t, "template", "get", "greet");
      expect(gone.code).toBe(2);
      expect(gone.stderr).toMatch(/SKF-REG-003 WorkflowTemplate greet not found in namespace default/);

      const server = await skiff(t, "template", "list", "--server", "http://localhost:2746");
      expect(server.code).toBe(2);
      expect(server.stderr).toMatch(/SKF-REG-006/);
    },
    SLOW,
  );

  it(
    "resolves templateRef, workflowTemplateRef and clusterScope from the registry for later runs",
    async () => {
      const t = suite.trial();
      for (const [verb, file] of [
        ["template", "greet-template.yaml"],
        ["cluster-template", "shared-cluster-template.yaml"],
      ] as const)
        expect((await skiff(t, verb, "create", fixture(file))).code).toBe(0);

      // skiff lint resolves them too, as argo lint resolves against the cluster.
      const lint = await skiff(t, "lint", fixture("uses-greet.yaml"), fixture("uses-shared.yaml"));
      expect(lint.code, lint.stdout).toBe(0);
      expect(lint.stdout).toBe("2 objects in 2 files: no problems found\n");

      const run = await skiff(t, "run", fixture("uses-greet.yaml"), ...NO_SANDBOX);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      expect(said(t)).toBe("from-a-workflow\n");

      const viaRef = await skiff(t, "run", fixture("uses-shared.yaml"), ...NO_SANDBOX, "-o", "name");
      expect(viaRef.code, viaRef.stderr).toBe(0);
      expect(said(t)).toBe("from-a-workflow\nthrough-workflowTemplateRef\ncluster\n");

      // Without the registry's template the reference is reported as before.
      await skiff(t, "template", "delete", "greet");
      const missing = await skiff(t, "run", fixture("uses-greet.yaml"), ...NO_SANDBOX);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/greet/);
      expect((await skiff(t, "lint", fixture("uses-greet.yaml"))).code).toBe(2);
    },
    SLOW,
  );

  it(
    "submits from a stored WorkflowTemplate and CronWorkflow, with parameters, waiting for the result",
    async () => {
      const t = suite.trial();
      await skiff(t, "template", "create", fixture("greet-template.yaml"));
      const fromTemplate = await skiff(
        t,
        "submit",
        "--from",
        "workflowtemplate/greet",
        "-p",
        "message=submitted",
        "--wait",
        ...NO_SANDBOX,
      );
      expect(fromTemplate.code, fromTemplate.stderr).toBe(0);
      const [name, result] = fromTemplate.stdout.trim().split("\n");
      expect(name).toMatch(/^greet-[a-z0-9]{5}$/);
      expect(result).toBe(`${name} Succeeded`);
      const wf = (await stored(suite.path, t, name!)) as Workflow;
      expect(wf.metadata.labels?.["workflows.argoproj.io/workflow-template"]).toBe("greet");
      expect(said(t)).toBe("submitted\n");

      const cron = await skiff(t, "cron", "create", fixture("nightly-cron.yaml"));
      expect(cron.code, cron.stderr).toBe(0);
      const list = await skiff(t, "cron", "list");
      expect(list.stdout).toMatch(
        /^NAME +AGE +LAST RUN +NEXT RUN +SCHEDULES +TIMEZONE +SUSPENDED\nnightly .* 0 2 \* \* \* +Europe\/Berlin +false\n$/,
      );
      expect((await skiff(t, "cron", "suspend", "nightly")).stdout).toBe(
        "CronWorkflow 'nightly' suspended\n",
      );
      const suspended = JSON.parse(
        (await skiff(t, "cron", "get", "nightly", "-o", "json")).stdout,
      ) as CronWorkflow;
      expect(suspended.spec.suspend).toBe(true);
      expect(suspended.metadata.resourceVersion).toBe("2");
      await skiff(t, "cron", "resume", "nightly");

      const fromCron = await skiff(
        t,
        "submit",
        "--from",
        "cronwf/nightly",
        "--wait",
        ...NO_SANDBOX,
        "-o",
        "name",
      );
      expect(fromCron.code, fromCron.stderr).toBe(0);
      const cronRun = fromCron.stdout.trim().split("\n")[0]!;
      expect(cronRun).toMatch(/^nightly-[a-z0-9]{5}$/);
      const cronWf = (await stored(suite.path, t, cronRun)) as Workflow;
      expect(cronWf.metadata.labels?.["workflows.argoproj.io/cron-workflow"]).toBe("nightly");
      expect(cronWf.metadata.annotations?.["workflows.argoproj.io/scheduled-time"]).toMatch(/Z$/);
      expect(said(t)).toBe("submitted\nnightly\n");

      const badCron = await skiff(t, "cron", "create", fixture("bad-cron.yaml"));
      expect(badCron.code).toBe(2);
      expect(badCron.stderr).toMatch(/bad-cron\.yaml:7:\d+: SKF-CRON-001 invalid schedule "0 2 \* \* \* \*"/);
      const badRef = await skiff(t, "submit", "--from", "workflow/greet");
      expect(badRef.stderr).toMatch(/SKF-REG-005/);
    },
    SLOW,
  );
});
