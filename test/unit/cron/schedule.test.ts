import { describe, expect, it } from "vitest";
import type { SkiffError } from "../../../runtime/errors/index.js";
import { parseSchedule, scheduleKey, validateCronWorkflow } from "../../../runtime/cron/index.js";
import { parseManifests } from "../../../runtime/spec/load.js";
import type { CronWorkflow } from "../../../runtime/spec/types.js";

const at = (iso: string) => Date.parse(iso);
const next = (text: string, after: string, zone = "UTC") =>
  new Date(parseSchedule(text, zone).next(at(after))!).toISOString();

describe("cron schedules", () => {
  it("reads robfig's standard syntax: 5 fields, ? as *, descriptors, day-of-month OR day-of-week", () => {
    expect(next("15 * * * ?", "2026-05-04T10:20:00Z")).toBe("2026-05-04T11:15:00.000Z");
    expect(next("@hourly", "2026-05-04T10:20:00Z")).toBe("2026-05-04T11:00:00.000Z");
    expect(next("@midnight", "2026-05-04T10:20:00Z")).toBe("2026-05-05T00:00:00.000Z");
    expect(next("@weekly", "2026-05-04T10:20:00Z")).toBe("2026-05-10T00:00:00.000Z");
    expect(next("@annually", "2026-05-04T10:20:00Z")).toBe("2027-01-01T00:00:00.000Z");
    // 1st of the month or a Monday, as Vixie cron and robfig read it.
    expect(next("0 0 1 * 1", "2026-05-26T00:00:00Z")).toBe("2026-06-01T00:00:00.000Z");
    expect(next("0 0 1 * 1", "2026-05-02T00:00:00Z")).toBe("2026-05-04T00:00:00.000Z");
  });

  it("counts @every from its anchor", () => {
    const s = parseSchedule("@every 90m", "UTC", at("2026-05-04T10:00:00Z"));
    expect(new Date(s.next(at("2026-05-04T11:00:00Z"))!).toISOString()).toBe("2026-05-04T11:30:00.000Z");
  });

  it("lets a CRON_TZ= prefix win over the time zone", () => {
    expect(next("CRON_TZ=America/New_York 0 9 * * *", "2026-07-01T00:00:00Z", "Europe/Berlin")).toBe(
      "2026-07-01T13:00:00.000Z",
    );
  });

  it("refuses seconds, unknown descriptors, bad fields and unknown zones with coded errors", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as SkiffError).code;
      }
      return "none";
    };
    expect(code(() => parseSchedule("0 * * * * *", "UTC"))).toBe("SKF-CRON-001");
    expect(code(() => parseSchedule("@reboot", "UTC"))).toBe("SKF-CRON-001");
    expect(code(() => parseSchedule("61 * * * *", "UTC"))).toBe("SKF-CRON-001");
    expect(code(() => parseSchedule("* * * * *", "Mars/Olympus"))).toBe("SKF-CRON-002");
  });

  it("keys the schedules as Argo's last-used-schedule annotation", () => {
    const cron = {
      metadata: { name: "x" },
      spec: { schedules: ["0 1 * * *", "0 2 * * *"], timezone: "Asia/Tokyo", workflowSpec: {} },
    } as unknown as CronWorkflow;
    expect(scheduleKey(cron)).toBe("CRON_TZ=Asia/Tokyo 0 1 * * *,CRON_TZ=Asia/Tokyo 0 2 * * *");
  });
});

describe("validateCronWorkflow", () => {
  it("reports every problem at its file and line", () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: a-cron-workflow-name-that-is-much-too-long-for-argo-to-accept
spec:
  schedules:
    - "0 2 * * *"
    - "0 25 * * *"
  concurrencyPolicy: Sometimes
  startingDeadlineSeconds: -5
  workflowSpec:
    entrypoint: main
`;
    const [manifest] = parseManifests(text, "nightly.yaml").manifests;
    const problems = validateCronWorkflow(manifest!);
    expect(problems.map((p) => [p.code, p.position?.line, p.path])).toEqual([
      ["SKF-CRON-003", 4, "metadata.name"],
      ["SKF-CRON-001", 8, "spec.schedules.1"],
      ["SKF-CRON-003", 9, "spec.concurrencyPolicy"],
      ["SKF-CRON-003", 10, "spec.startingDeadlineSeconds"],
    ]);
    expect(problems.every((p) => p.position?.file === "nightly.yaml")).toBe(true);
  });

  it("refuses an unknown time zone and a CronWorkflow without schedules", () => {
    const text = `apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: tz}
spec:
  timezone: Europe/Atlantis
  workflowSpec: {entrypoint: main}
`;
    const [manifest] = parseManifests(text, "tz.yaml").manifests;
    expect(validateCronWorkflow(manifest!).map((p) => [p.code, p.position?.line])).toEqual([
      ["SKF-CRON-001", 4],
      ["SKF-CRON-002", 5],
    ]);
  });
});
