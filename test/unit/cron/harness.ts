import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCronScheduler, type CronFiring, type CronScheduler } from "../../../runtime/cron/index.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import type { CronWorkflow, CronWorkflowSpec, Workflow, WorkflowPhase } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";

/** A CronWorkflow with a one-step workflow. */
export function cronWorkflow(name: string, spec: Partial<CronWorkflowSpec>): CronWorkflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "CronWorkflow",
    metadata: { name },
    spec: {
      workflowSpec: { entrypoint: "main", templates: [{ name: "main", container: { image: "busybox" } }] },
      ...spec,
    },
  };
}

/**
 * A scheduler over a real embedded store and a fake clock. `submit` stores the workflow Running (nothing
 * runs it); `complete` finishes one as a controller would; `terminate` marks it Failed as Argo's terminate.
 */
export class CronHarness {
  readonly submitted: string[] = [];
  readonly terminated: string[] = [];
  readonly firings: CronFiring[] = [];
  readonly errors: string[] = [];
  failSubmit = false;
  /** Runs before each submission (another scheduler acting meanwhile). */
  beforeSubmit: (() => Promise<void>) | undefined;
  scheduler: CronScheduler | undefined;

  private constructor(
    readonly store: Store,
    readonly clock: FakeClock,
    private readonly dir: string,
  ) {}

  static async open(start: string): Promise<CronHarness> {
    const dir = await mkdtemp(join(tmpdir(), "skiff-cron-"));
    const store = await openEmbeddedStore({ dir, durable: false });
    return new CronHarness(store, new FakeClock({ start: Date.parse(start) }), dir);
  }

  /** Registers a CronWorkflow as created at the clock's time. */
  async register(cron: CronWorkflow): Promise<CronWorkflow> {
    const at = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    return this.store.putRegistered({ ...cron, metadata: { ...cron.metadata, creationTimestamp: at } });
  }

  async cron(name: string): Promise<CronWorkflow> {
    return (await this.store.getRegistered("CronWorkflow", "default", name)) as CronWorkflow;
  }

  async start(): Promise<void> {
    this.scheduler = startCronScheduler({
      store: this.store,
      clock: this.clock,
      timezone: "UTC",
      syncPeriodMs: 60_000,
      submit: async ({ workflow }) => {
        await this.beforeSubmit?.();
        if (this.failSubmit) throw new Error("the API refused the workflow");
        this.submitted.push(workflow.metadata.name ?? "");
        await this.store.put({ ...workflow, status: { phase: "Running" } });
      },
      terminate: async (namespace, name) => {
        this.terminated.push(name);
        await this.complete(name, "Failed", namespace);
      },
      onFiring: (f) => this.firings.push(f),
      onError: (e) => this.errors.push(`${e.code}: ${e.message}`),
    });
    await this.scheduler.idle();
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    this.scheduler = undefined;
  }

  /** Moves the clock forward in steps, letting the scheduler work after each. */
  async advance(ms: number, step = 60_000): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      this.clock.advance(Math.min(step, ms - done));
      await this.scheduler?.idle();
    }
  }

  async advanceTo(iso: string, step = 60_000): Promise<void> {
    await this.advance(Date.parse(iso) - this.clock.now(), step);
  }

  async complete(name: string, phase: WorkflowPhase, namespace = "default"): Promise<void> {
    const wf = (await this.store.get(namespace, name)) as Workflow;
    const finishedAt = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    await this.store.put({ ...wf, status: { ...wf.status, phase, finishedAt } });
  }

  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `<cron>-<unix seconds>` of an ISO time. */
export function runName(cron: string, iso: string): string {
  return `${cron}-${Date.parse(iso) / 1000}`;
}
