import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SkiffAggregateError, SkiffError } from "../../../runtime/errors/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { CronWorkflow, WorkflowTemplate } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";
import { selectRegistered } from "../../../src/run/from-registry.js";
import { manifestOf, parseRegistryRef, TemplateRegistry } from "../../../src/run/registry.js";
import { compileRunnable } from "../../../src/run/select.js";

/* TemplateRegistry as the server calls it: objects in, objects out, coded errors. */

let dir: string;
let store: Store;
let registry: TemplateRegistry;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "skiff-registry-service-"));
  store = await openEmbeddedStore({ dir, durable: false });
  registry = new TemplateRegistry(store);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const template = (name: string, steps: string[] = []): WorkflowTemplate => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "WorkflowTemplate",
  metadata: { name },
  spec: {
    entrypoint: "main",
    templates: [
      steps.length > 0
        ? {
            name: "main",
            steps: [steps.map((t) => ({ name: t, templateRef: { name: t, template: "main" } }))],
          }
        : { name: "main", container: { image: "alpine", command: ["true"] } },
    ],
  },
});

const cron: CronWorkflow = {
  apiVersion: "argoproj.io/v1alpha1",
  kind: "CronWorkflow",
  metadata: { name: "nightly", namespace: "team" },
  spec: {
    schedules: ["0 2 * * *"],
    workflowSpec: { entrypoint: "main", templates: [{ name: "main", container: { image: "alpine" } }] },
  },
};

const code = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as SkiffError).code;

describe("TemplateRegistry", () => {
  it("refuses a template whose templateRef resolves nowhere, and accepts it once the target is stored", async () => {
    const e = (await registry
      .create([manifestOf(template("uses", ["base"]))])
      .catch((x: unknown) => x)) as SkiffAggregateError;
    expect(e.code).toBe("SKF-REG-004");
    expect(e.problems.map((p) => p.message).join()).toMatch(/base/);
    await registry.create([manifestOf(template("base"))]);
    const [created] = await registry.create([manifestOf(template("uses", ["base"]))]);
    expect(created?.metadata).toMatchObject({ name: "uses", namespace: "default", resourceVersion: "1" });
  });

  it("updates only the version it was given, and keeps a CronWorkflow's status", async () => {
    const [stored] = await registry.create([manifestOf(cron)]);
    await store.putRegistered({
      ...stored!,
      status: { lastScheduledTime: "2026-05-04T00:00:00Z" },
    } as CronWorkflow);
    const changed = {
      ...cron,
      spec: { ...cron.spec, suspend: true },
      metadata: { ...cron.metadata, resourceVersion: "2" },
    };
    const updated = (await registry.update(manifestOf(changed))) as CronWorkflow;
    expect(updated.spec.suspend).toBe(true);
    expect(updated.metadata.uid).toBe(stored?.metadata.uid);
    expect((updated.status as { lastScheduledTime?: string }).lastScheduledTime).toBe("2026-05-04T00:00:00Z");
    expect(await code(registry.update(manifestOf(changed)))).toBe("SKF-REG-001");
    expect(await code(registry.get("CronWorkflow", "other", "nightly"))).toBe("SKF-REG-003");
    expect((await registry.setSuspended("team", "nightly", false)).spec.suspend).toBe(false);
  });

  it("submits from a stored template as argo submit --from does", async () => {
    await registry.create([manifestOf(template("base"))]);
    const selection = await selectRegistered(store, "WorkflowTemplate", "default", "base", {
      parameters: {},
    });
    const compiled = compileRunnable(selection, selection.runnables[0]!);
    expect(compiled.workflow.metadata.name).toMatch(/^base-[a-z0-9]{5}$/);
    expect(compiled.workflow.metadata.labels?.["workflows.argoproj.io/workflow-template"]).toBe("base");
    expect(compiled.workflow.spec.workflowTemplateRef).toEqual({ name: "base" });
    expect(parseRegistryRef("cwftmpl/shared")).toEqual({ kind: "ClusterWorkflowTemplate", name: "shared" });
    expect(() => parseRegistryRef("workflow/x")).toThrow(/cannot submit from/);
  });
});
