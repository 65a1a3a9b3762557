import { describe, expect, it } from "vitest";
import { InMemoryMemoCache } from "../../../runtime/controller/index.js";
import { compileYaml, harness, run, start } from "./helpers.js";

describe("parallelism", () => {
  it("never runs more pods than spec.parallelism", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const { wf, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: par}
spec:
  entrypoint: main
  parallelism: 2
  templates:
  - name: main
    steps:
    - - {name: s, template: t, withSequence: {count: "7"}}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests).toHaveLength(7);
    expect(exec.maxConcurrency).toBe(2);
    expect(wf.status?.finishedAt).toBe("2024-01-01T00:00:04Z");
  });

  it("applies template parallelism per invocation, nested steps counting once", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const { wf, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tpar}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 1
    dag:
      tasks:
      - {name: a, template: inner}
      - {name: b, template: inner}
  - name: inner
    parallelism: 3
    steps:
    - - {name: s, template: t, withItems: [1, 2, 3, 4, 5, 6]}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.requests).toHaveLength(12);
    expect(exec.maxConcurrency).toBe(3);
  });

  it("template failFast stops new children and fails with Argo's message", async () => {
    const h = harness();
    h.exec.script("bad", { exitCode: 1 });
    h.exec.script("t", { duration: 1000 });
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ff}
spec:
  entrypoint: main
  templates:
  - name: main
    failFast: true
    parallelism: 1
    dag:
      tasks:
      - {name: bad, template: t}
      - {name: x1, template: t}
      - {name: x2, template: t}
  - name: t
    container: {image: x}
`,
      h,
    );
    expect(exec.requests.map((r) => r.nodeName)).toEqual(["ff.bad"]);
    expect(n("ff").phase).toBe("Failed");
    expect(wf.status?.message).toBe("template has failed or errored children and failFast enabled");
  });
});

describe("synchronization", () => {
  const MUTEX = (name: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ${name}}
spec:
  entrypoint: t
  templates:
  - name: t
    synchronization: {mutexes: [{name: shared}]}
    container: {image: x}
`;

  it("a template mutex lets one holder at a time run, others wait Pending with Argo's message", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const a = start(MUTEX("wa"), h);
    const b = start(MUTEX("wb"), h);
    let seen: string | undefined;
    h.events.length = 0;
    const [fa, fb] = await Promise.all([
      a.done,
      (async () => {
        for (let i = 0; i < 50 && !seen; i++) {
          await new Promise((r) => setImmediate(r));
          seen = b.snapshot().status?.nodes?.wb?.message;
        }
        return b.done;
      })(),
    ]);
    expect(seen).toBe("Waiting for default/Mutex/shared lock. Lock status: 0/1");
    expect(fa.status?.phase).toBe("Succeeded");
    expect(fb.status?.phase).toBe("Succeeded");
    expect(h.exec.maxConcurrency).toBe(1);
    expect(fb.status?.nodes?.wb?.synchronizationStatus).toBeUndefined();
  });

  it("a semaphore takes its size from a ConfigMap", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const { wf, exec } = await run(
      `
apiVersion: v1
kind: ConfigMap
metadata: {name: sem}
data: {workflow: "2"}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sm}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: s, template: t, withSequence: {count: "5"}}
  - name: t
    synchronization: {semaphores: [{configMapKeyRef: {name: sem, key: workflow}}]}
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(exec.maxConcurrency).toBe(2);
    expect(exec.requests).toHaveLength(5);
  });

  it("a workflow-level mutex keeps the second workflow Pending", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const yaml = (name: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ${name}}
spec:
  entrypoint: t
  synchronization: {mutex: {name: wfm}}
  templates:
  - name: t
    container: {image: x}
`;
    const a = start(yaml("m1"), h);
    const b = start(yaml("m2"), h);
    await new Promise((r) => setImmediate(r));
    const snap = b.snapshot();
    expect(snap.status?.phase).toBe("Pending");
    expect(snap.status?.message).toBe("Waiting for default/Mutex/wfm lock. Lock status: 0/1");
    expect((await a.done).status?.phase).toBe("Succeeded");
    expect((await b.done).status?.phase).toBe("Succeeded");
    expect(h.exec.maxConcurrency).toBe(1);
  });

  it("stopping a workflow that waits for its lock ends it without running anything", async () => {
    const h = harness();
    h.exec.script("t", { duration: 1000 });
    const yaml = (name: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: ${name}}
spec:
  entrypoint: t
  synchronization: {mutexes: [{name: held}]}
  templates:
  - name: t
    container: {image: x}
`;
    const a = start(yaml("h1"), h);
    const b = start(yaml("h2"), h);
    await new Promise((r) => setImmediate(r));
    b.stop("Stop");
    const fb = await b.done;
    expect(fb.status?.phase).toBe("Failed");
    expect(fb.status?.message).toBe("Stopped with strategy 'Stop'");
    expect(Object.keys(fb.status?.nodes ?? {})).toEqual([]);
    expect((await a.done).status?.phase).toBe("Succeeded");
    expect(h.exec.requests).toHaveLength(1);
  });
});

describe("memoization", () => {
  const MEMO = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: memo}
spec:
  entrypoint: t
  arguments: {parameters: [{name: k, value: key1}]}
  templates:
  - name: t
    memoize: {key: "{{workflow.parameters.k}}", maxAge: 1h, cache: {configMap: {name: my-cache}}}
    container: {image: x}
    outputs: {parameters: [{name: p, valueFrom: {path: /p}}]}
`;

  it("a second run with the same key hits the cache and does not execute", async () => {
    const h = harness();
    const memoCache = new InMemoryMemoCache();
    h.exec.script("t", { outputParameters: { p: "computed" } });
    const first = await start(MEMO, h, { memoCache }).done;
    expect(first.status?.nodes?.memo?.memoizationStatus).toEqual({
      hit: false,
      key: "key1",
      cacheName: "my-cache",
    });
    const second = await start(MEMO, h, { memoCache }).done;
    const node = second.status?.nodes?.memo;
    expect(node?.phase).toBe("Succeeded");
    expect(node?.memoizationStatus).toEqual({ hit: true, key: "key1", cacheName: "my-cache" });
    expect(node?.outputs?.parameters?.[0]?.value).toBe("computed");
    expect(h.exec.requests).toHaveLength(1);
  });

  it("an entry older than maxAge is a miss", async () => {
    const h = harness();
    const memoCache = new InMemoryMemoCache();
    await start(MEMO, h, { memoCache }).done;
    h.clock.advance(2 * 3600_000);
    await start(MEMO, h, { memoCache }).done;
    expect(h.exec.requests).toHaveLength(2);
  });

  it("failed nodes are not cached", async () => {
    const h = harness();
    const memoCache = new InMemoryMemoCache();
    h.exec.script("t", { exitCode: 1 });
    await start(compileYaml(MEMO), h, { memoCache }).done;
    await start(compileYaml(MEMO), h, { memoCache }).done;
    expect(h.exec.requests).toHaveLength(2);
  });
});

describe("memoization with retries", () => {
  it("saves the Retry node's outputs and hits on the next run", async () => {
    const h = harness();
    const memoCache = new InMemoryMemoCache();
    h.exec.script("t", (_r, call) => ({ exitCode: call === 0 ? 1 : 0, outputParameters: { p: "v" } }));
    const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mr}
spec:
  entrypoint: t
  templates:
  - name: t
    retryStrategy: {limit: 2}
    memoize: {key: k1, cache: {configMap: {name: c}}}
    container: {image: x}
    outputs: {parameters: [{name: p, valueFrom: {path: /p}}]}
`;
    const first = await start(yaml, h, { memoCache }).done;
    expect(first.status?.nodes?.mr?.type).toBe("Retry");
    expect(first.status?.nodes?.mr?.memoizationStatus).toEqual({ hit: false, key: "k1", cacheName: "c" });
    const second = await start(yaml, h, { memoCache }).done;
    expect(second.status?.nodes?.mr?.memoizationStatus?.hit).toBe(true);
    expect(second.status?.nodes?.mr?.type).toBe("Retry");
    expect(second.status?.nodes?.mr?.outputs?.parameters?.[0]?.value).toBe("v");
    expect(h.exec.requests).toHaveLength(2);
  });
});

describe("template timeout while waiting for a lock", () => {
  it("fails a node still Pending on its lock when the timeout passes", async () => {
    const h = harness();
    h.exec.script("hold", { duration: 60_000 });
    const { n, wf } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: lt}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: hold, template: hold}
      - {name: wait, template: wait}
  - name: hold
    synchronization: {mutexes: [{name: m}]}
    container: {image: x}
  - name: wait
    timeout: 10s
    synchronization: {mutexes: [{name: m}]}
    container: {image: x}
`,
      h,
    );
    expect(n("lt[0].wait").phase).toBe("Failed");
    expect(n("lt[0].wait").message).toBe("timeout");
    expect(n("lt[0].wait").finishedAt).toBe("2024-01-01T00:00:10Z");
    expect(n("lt[0].hold").phase).toBe("Succeeded");
    expect(wf.status?.phase).toBe("Failed");
  });
});
