import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { startCronScheduler, type CronFiring, type CronWorkflowStatus } from "../../../runtime/cron/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import type { CronWorkflow } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";

/*
 * The one test on the real clock: `* * * * *` fires once a minute. It waits for two firings (at most about
 * two and a half minutes), then checks that they were one minute apart and that nothing else fired.
 */
it("fires a * * * * * CronWorkflow once a minute on the real clock", async () => {
  const dir = await mkdtemp(join(tmpdir(), "skiff-cron-realtime-"));
  const store = await openEmbeddedStore({ dir, durable: false });
  const cron: CronWorkflow = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "CronWorkflow",
    metadata: { name: "every-minute" },
    spec: {
      schedules: ["* * * * *"],
      workflowSpec: { entrypoint: "main", templates: [{ name: "main", container: { image: "alpine" } }] },
    },
  };
  await store.putRegistered(cron);
  const firings: CronFiring[] = [];
  let secondFiring: () => void = () => undefined;
  const twoFirings = new Promise<void>((resolve) => (secondFiring = resolve));
  const scheduler = startCronScheduler({
    store,
    clock: new SystemClock(),
    timezone: "UTC",
    submit: async ({ workflow }) => {
      await store.put({ ...workflow, status: { phase: "Running" } });
    },
    terminate: async () => undefined,
    onFiring: (f) => {
      firings.push(f);
      if (firings.length === 2) secondFiring();
    },
  });
  try {
    await twoFirings;
    await scheduler.stop();
    expect(firings.map((f) => f.outcome)).toEqual(["submitted", "submitted"]);
    const [first, second] = firings.map((f) => f.scheduledTime);
    expect(first! % 60_000).toBe(0);
    expect(second! - first!).toBe(60_000);
    expect(firings.map((f) => f.workflow)).toEqual([
      `every-minute-${first! / 1000}`,
      `every-minute-${second! / 1000}`,
    ]);
    const stored = (await store.getRegistered("CronWorkflow", "default", "every-minute")) as CronWorkflow;
    expect((stored.status as CronWorkflowStatus).active?.map((a) => a.name)).toEqual(
      firings.map((f) => f.workflow),
    );
  } finally {
    await scheduler.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 200_000);
