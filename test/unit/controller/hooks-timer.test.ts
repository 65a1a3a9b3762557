import { describe, expect, it } from "vitest";
import { HOOK_REEVALUATION_MS } from "../../../runtime/controller/index.js";
import { harness, run, start, until } from "./helpers.js";

describe("lifecycle hooks on a timer", () => {
  it("fires a workflow hook whose expression turns true with workflow.duration while nothing changes", async () => {
    const h = harness();
    h.exec.script("long", { duration: 120_000 });
    const { n, wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wt}
spec:
  entrypoint: main
  hooks:
    slow: {template: notify, expression: "asFloat(workflow.duration) > 25"}
  templates:
  - name: main
    steps:
    - - {name: long, template: long}
  - name: long
    container: {image: x}
  - name: notify
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    const hook = n("wt.hooks.slow");
    expect(hook.phase).toBe("Succeeded");
    // First re-evaluation after 25 s of run time: the third tick of the timer.
    expect(hook.startedAt).toBe(
      new Date(Date.UTC(2024, 0, 1) + 3 * HOOK_REEVALUATION_MS).toISOString().replace(".000", ""),
    );
    expect(n("wt").children ?? []).toContain(hook.id);
  });

  it("fires a step hook on a step that has been Running a while", async () => {
    const h = harness();
    h.exec.script("a", { duration: 60_000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: st}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: t
        hooks:
          overdue:
            template: notify
            expression: steps.a.status == "Running" && asFloat(workflow.duration) >= 30
  - name: t
    container: {image: x}
  - name: notify
    container: {image: x}
`,
      h,
    );
    const hook = n("st[0].a.hooks.overdue");
    expect(hook.phase).toBe("Succeeded");
    expect(hook.startedAt).toBe("2024-01-01T00:00:30Z");
    // Fired once, while the step still ran.
    expect(h.exec.requests.filter((r) => r.templateName === "notify")).toHaveLength(1);
    expect(n("st[0].a").finishedAt).toBe("2024-01-01T00:01:00Z");
  });

  it("does not fire a hook whose expression stays false, and leaves no timer once the workflow ends", async () => {
    const h = harness();
    h.exec.script("a", { duration: 45_000 });
    const running = start(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nt}
spec:
  entrypoint: main
  hooks:
    never: {template: t, expression: "asFloat(workflow.duration) > 3600"}
  templates:
  - name: main
    steps:
    - - name: a
        template: t
        hooks: {late: {template: t, expression: "asFloat(workflow.duration) > 3600"}}
  - name: t
    container: {image: x}
`,
      h,
    );
    const wf = await running.done;
    expect(wf.status?.phase).toBe("Succeeded");
    expect(h.exec.requests.map((r) => r.nodeName)).toEqual(["nt[0].a"]);
    await until(() => h.clock.pendingTimers === 0);
    expect(h.clock.now()).toBe(Date.UTC(2024, 0, 1) + 45_000);
  });

  it("a workflow without timed hooks sets no re-evaluation timer", async () => {
    const h = harness({ auto: false });
    const running = start(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nh}
spec:
  entrypoint: main
  templates:
  - name: main
    suspend: {}
`,
      h,
    );
    await until(() => running.snapshot().status?.nodes?.[running.name]?.phase === "Running");
    expect(h.clock.pendingTimers).toBe(0);
    running.resume();
    expect((await running.done).status?.phase).toBe("Succeeded");
  });
});

describe("DAG task hooks on a timer", () => {
  it("fires a task hook while the task has been Running a while", async () => {
    const h = harness();
    h.exec.script("a", { duration: 50_000 });
    const { n } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: dt}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        template: t
        hooks:
          slow: {template: t, expression: 'tasks.a.status == "Running" && asFloat(workflow.duration) >= 20'}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(n("dt.a.hooks.slow").startedAt).toBe("2024-01-01T00:00:20Z");
    expect(n("dt.a").phase).toBe("Succeeded");
  });
});
