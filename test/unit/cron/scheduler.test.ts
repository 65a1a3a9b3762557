import { afterEach, describe, expect, it } from "vitest";
import { CRON_ANNOTATIONS, CRON_LABELS, type CronWorkflowStatus } from "../../../runtime/cron/index.js";
import { CronHarness, cronWorkflow, runName } from "./harness.js";

let h: CronHarness;
afterEach(async () => {
  await h?.close();
});

const statusOf = async (name: string) => (await h.cron(name)).status as CronWorkflowStatus;

describe("cron scheduler", () => {
  it("fires once per minute with Argo's names, labels, annotation and status", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("tick", { schedules: ["* * * * *"] }));
    await h.start();
    await h.advance(3 * 60_000, 15_000);
    expect(h.submitted).toEqual([
      runName("tick", "2026-05-04T10:01:00Z"),
      runName("tick", "2026-05-04T10:02:00Z"),
      runName("tick", "2026-05-04T10:03:00Z"),
    ]);
    const wf = await h.store.get("default", runName("tick", "2026-05-04T10:01:00Z"));
    expect(wf?.metadata.labels?.[CRON_LABELS.cronWorkflow]).toBe("tick");
    expect(wf?.metadata.annotations?.[CRON_ANNOTATIONS.scheduledTime]).toBe("2026-05-04T10:01:00Z");
    expect((wf?.metadata.ownerReferences as { kind: string }[])[0]?.kind).toBe("CronWorkflow");
    const status = await statusOf("tick");
    expect(status.lastScheduledTime).toBe("2026-05-04T10:03:00Z");
    expect(status.phase).toBe("Active");
    expect(status.active?.map((r) => r.name)).toHaveLength(3);
    expect((await h.cron("tick")).metadata.annotations?.[CRON_ANNOTATIONS.lastUsedSchedule]).toBe(
      "* * * * *",
    );
  });

  it("fires a CronWorkflow created between two looks at the store at its first schedule", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.start();
    h.clock.advance(15_000);
    await h.register(cronWorkflow("late", { schedules: ["* * * * *"] }));
    // The scheduler looks again only at its next sync, 10:01:30, after the 10:01 firing.
    await h.advance(60_000, 15_000);
    expect(h.submitted).toEqual([runName("late", "2026-05-04T10:01:00Z")]);
  });

  it("fires for each of several schedules, the legacy schedule field included", async () => {
    h = await CronHarness.open("2026-05-04T09:59:00Z");
    await h.register(cronWorkflow("both", { schedule: "0 * * * *", schedules: ["30 * * * *"] }));
    await h.start();
    await h.advanceTo("2026-05-04T11:45:00Z", 300_000);
    expect(h.submitted).toEqual(
      ["10:00", "10:30", "11:00", "11:30"].map((t) => runName("both", `2026-05-04T${t}:00Z`)),
    );
  });

  it("follows the time zone across the spring-forward and fall-back changes", async () => {
    h = await CronHarness.open("2026-03-27T12:00:00Z");
    await h.register(cronWorkflow("berlin", { schedules: ["30 2 * * *"], timezone: "Europe/Berlin" }));
    await h.start();
    await h.advanceTo("2026-03-31T00:00:00Z", 1_800_000);
    // 02:30 does not exist on 29 March in Berlin: the run comes at 03:00 CEST, once.
    expect(h.submitted).toEqual([
      runName("berlin", "2026-03-28T01:30:00Z"),
      runName("berlin", "2026-03-29T01:00:00Z"),
      runName("berlin", "2026-03-30T00:30:00Z"),
    ]);
    h.clock.advance(Date.parse("2026-10-24T12:00:00Z") - h.clock.now());
    await h.scheduler?.poke();
    // A scheduler that slept through firings fires the latest one when it wakes (as robfig/cron).
    expect(h.submitted.at(-1)).toBe(runName("berlin", "2026-10-24T00:30:00Z"));
    h.submitted.length = 0;
    await h.advanceTo("2026-10-26T12:00:00Z", 1_800_000);
    // 02:30 happens twice on 25 October (CEST, then CET): one run, at the first.
    expect(h.submitted).toEqual([
      runName("berlin", "2026-10-25T00:30:00Z"),
      runName("berlin", "2026-10-26T01:30:00Z"),
    ]);
  });

  it("fires on 29 February only in leap years", async () => {
    h = await CronHarness.open("2027-02-01T00:00:00Z");
    await h.register(cronWorkflow("leap", { schedules: ["0 12 29 2 *"] }));
    await h.start();
    await h.advanceTo("2027-03-02T00:00:00Z", 86_400_000);
    expect(h.submitted).toEqual([]);
    h.clock.advance(Date.parse("2028-02-28T00:00:00Z") - h.clock.now());
    await h.scheduler?.poke();
    await h.advanceTo("2028-03-01T00:00:00Z", 3_600_000);
    expect(h.submitted).toEqual([runName("leap", "2028-02-29T12:00:00Z")]);
  });

  describe("a scheduler down across several schedules", () => {
    async function downFrom10To(restart: string, spec: { startingDeadlineSeconds?: number }) {
      h = await CronHarness.open("2026-05-04T09:58:00Z");
      await h.register(cronWorkflow("hourly", { schedules: ["0 * * * *"], ...spec }));
      await h.start();
      await h.advanceTo("2026-05-04T10:05:00Z");
      expect(h.submitted).toEqual([runName("hourly", "2026-05-04T10:00:00Z")]);
      await h.stop();
      h.clock.advance(Date.parse(restart) - h.clock.now());
      await h.start();
      return h.submitted.slice(1);
    }

    it("catches up only the latest missed run within startingDeadlineSeconds", async () => {
      expect(await downFrom10To("2026-05-04T13:05:00Z", { startingDeadlineSeconds: 600 })).toEqual([
        runName("hourly", "2026-05-04T13:00:00Z"),
      ]);
      expect((await statusOf("hourly")).lastScheduledTime).toBe("2026-05-04T13:00:00Z");
      // And carries on with the schedule.
      await h.advanceTo("2026-05-04T14:01:00Z");
      expect(h.submitted.at(-1)).toBe(runName("hourly", "2026-05-04T14:00:00Z"));
    });

    it("runs nothing missed once the deadline has passed", async () => {
      expect(await downFrom10To("2026-05-04T13:15:00Z", { startingDeadlineSeconds: 600 })).toEqual([]);
    });

    it("runs nothing missed without startingDeadlineSeconds", async () => {
      expect(await downFrom10To("2026-05-04T13:00:30Z", {})).toEqual([]);
    });

    it("runs nothing missed when the schedules changed meanwhile", async () => {
      h = await CronHarness.open("2026-05-04T09:58:00Z");
      await h.register(cronWorkflow("hourly", { schedules: ["0 * * * *"], startingDeadlineSeconds: 600 }));
      await h.start();
      await h.advanceTo("2026-05-04T10:05:00Z");
      await h.stop();
      const cron = await h.cron("hourly");
      await h.store.putRegistered({ ...cron, spec: { ...cron.spec, schedules: ["0 */1 * * *"] } });
      h.clock.advance(Date.parse("2026-05-04T13:02:00Z") - h.clock.now());
      await h.start();
      expect(h.submitted).toHaveLength(1);
    });
  });

  describe("concurrencyPolicy", () => {
    async function twoMinutes(policy: "Allow" | "Forbid" | "Replace") {
      h = await CronHarness.open("2026-05-04T10:00:30Z");
      await h.register(cronWorkflow("c", { schedules: ["* * * * *"], concurrencyPolicy: policy }));
      await h.start();
      await h.advance(2 * 60_000, 30_000);
    }

    it("Allow runs alongside the active run", async () => {
      await twoMinutes("Allow");
      expect(h.submitted).toHaveLength(2);
      expect((await statusOf("c")).active).toHaveLength(2);
    });

    it("Forbid skips while a run is active, and runs again once it completed", async () => {
      await twoMinutes("Forbid");
      expect(h.submitted).toEqual([runName("c", "2026-05-04T10:01:00Z")]);
      expect(h.firings.map((f) => f.outcome)).toEqual(["submitted", "forbidden"]);
      await h.complete(runName("c", "2026-05-04T10:01:00Z"), "Succeeded");
      await h.advance(60_000, 30_000);
      expect(h.submitted).toEqual([
        runName("c", "2026-05-04T10:01:00Z"),
        runName("c", "2026-05-04T10:03:00Z"),
      ]);
      const status = await statusOf("c");
      expect(status.succeeded).toBe(1);
      expect(status.active?.map((r) => r.name)).toEqual([runName("c", "2026-05-04T10:03:00Z")]);
    });

    it("Replace terminates the active run, then runs", async () => {
      await twoMinutes("Replace");
      expect(h.submitted).toHaveLength(2);
      expect(h.terminated).toEqual([runName("c", "2026-05-04T10:01:00Z")]);
      expect(h.firings[1]?.replaced).toEqual([runName("c", "2026-05-04T10:01:00Z")]);
      const status = await statusOf("c");
      expect(status.active?.map((r) => r.name)).toEqual([runName("c", "2026-05-04T10:02:00Z")]);
      expect(status.failed).toBe(1);
    });
  });

  it("does not fire while suspended, and fires again once resumed", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("s", { schedules: ["* * * * *"], suspend: true }));
    await h.start();
    await h.advance(2 * 60_000, 30_000);
    expect(h.submitted).toEqual([]);
    const cron = await h.cron("s");
    await h.store.putRegistered({ ...cron, spec: { ...cron.spec, suspend: false } });
    await h.advance(60_000, 30_000);
    expect(h.submitted).toEqual([runName("s", "2026-05-04T10:03:00Z")]);
  });

  it("skips firings whose when expression is false", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("w", { schedules: ["* * * * *"], when: "{{cronworkflow.succeeded}} < 1" }));
    await h.start();
    await h.advance(60_000, 30_000);
    expect(h.submitted).toHaveLength(1);
    await h.complete(h.submitted[0]!, "Succeeded");
    await h.advance(2 * 60_000, 30_000);
    expect(h.submitted).toHaveLength(1);
    expect(h.firings.map((f) => f.outcome)).toEqual(["submitted", "when-false", "when-false"]);
  });

  it("stops the CronWorkflow once stopStrategy's expression holds", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(
      cronWorkflow("stop", {
        schedules: ["* * * * *"],
        stopStrategy: { expression: "cronworkflow.succeeded >= 2" },
      }),
    );
    await h.start();
    for (let i = 0; i < 2; i++) {
      await h.advance(60_000, 30_000);
      await h.complete(h.submitted.at(-1)!, "Succeeded");
    }
    await h.advance(3 * 60_000, 30_000);
    expect(h.submitted).toHaveLength(2);
    const cron = await h.cron("stop");
    expect((cron.status as CronWorkflowStatus).phase).toBe("Stopped");
    expect(cron.metadata.labels?.[CRON_LABELS.completed]).toBe("true");
  });

  it("keeps successfulJobsHistoryLimit and failedJobsHistoryLimit completed runs", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(
      cronWorkflow("hist", {
        schedules: ["* * * * *"],
        successfulJobsHistoryLimit: 2,
        failedJobsHistoryLimit: 0,
      }),
    );
    await h.start();
    for (const phase of ["Succeeded", "Succeeded", "Failed", "Succeeded"] as const) {
      await h.advance(60_000, 30_000);
      await h.complete(h.submitted.at(-1)!, phase);
    }
    await h.advance(60_000, 30_000);
    const left = (await h.store.list({ labelSelector: { [CRON_LABELS.cronWorkflow]: "hist" } }))
      .filter((w) => w.status?.phase !== "Running")
      .map((w) => w.metadata.name);
    expect(left.sort()).toEqual([h.submitted[1], h.submitted[3]].sort());
    const status = await statusOf("hist");
    expect([status.succeeded, status.failed]).toEqual([3, 1]);
  });

  it("counts a refused submission as failed, with the SubmissionError condition", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("bad", { schedules: ["* * * * *"] }));
    h.failSubmit = true;
    await h.start();
    await h.advance(60_000, 30_000);
    const status = await statusOf("bad");
    expect(status.failed).toBe(1);
    expect(status.conditions?.[0]).toMatchObject({
      type: "SubmissionError",
      message: "the API refused the workflow",
    });
    h.failSubmit = false;
    await h.advance(60_000, 30_000);
    expect((await statusOf("bad")).conditions).toBeUndefined();
  });

  it("takes a run another scheduler created meanwhile for done, not for a failure", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("race", { schedules: ["* * * * *"] }));
    h.failSubmit = true;
    const other = runName("race", "2026-05-04T10:01:00Z");
    h.beforeSubmit = async () => {
      await h.store.put({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Workflow",
        metadata: { name: other, namespace: "default", labels: { [CRON_LABELS.cronWorkflow]: "race" } },
        spec: {},
        status: { phase: "Running" },
      });
    };
    await h.start();
    await h.advance(60_000, 30_000);
    expect(h.firings.map((f) => f.outcome)).toEqual(["exists"]);
    expect((await statusOf("race")).failed).toBeUndefined();
  });

  it("reports a CronWorkflow whose schedule does not parse, and keeps scheduling the others", async () => {
    h = await CronHarness.open("2026-05-04T10:00:30Z");
    await h.register(cronWorkflow("broken", { schedules: ["61 * * * *"] }));
    await h.register(cronWorkflow("fine", { schedules: ["* * * * *"] }));
    await h.start();
    await h.advance(60_000, 30_000);
    expect(h.submitted).toEqual([runName("fine", "2026-05-04T10:01:00Z")]);
    expect(h.errors[0]).toContain("SKF-CRON-001");
  });
});
