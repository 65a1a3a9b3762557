/**
 * Pods created per second by the Kubernetes executor for a fan-out of N steps (default 1,000), against the
 * API double with a simulated kubelet (containers "run" and exit 0 at once, so the figure is the controller,
 * executor, client and API path, not Docker). Prints one JSON line: the rate between the first and last pod
 * created, the whole run's wall time, the share of pod specs that validated against the Kubernetes schema,
 * and the settings.
 *
 *   npx tsx bench/kubernetes-fanout.ts [--n 1000] [--qps 50] [--burst 100]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { createLocalRepository } from "../runtime/artifacts/repository.js";
import { startWorkflow } from "../runtime/controller/index.js";
import { createKubernetesExecutor } from "../runtime/executors/kubernetes/index.js";
import { SystemClock } from "../runtime/interfaces/clock.js";
import { compile, Library, parseManifests } from "../runtime/spec/index.js";
import { KubeApiDouble } from "../test/doubles/kube-api/server.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    qps: { type: "string", default: "50" },
    burst: { type: "string", default: "100" },
  },
});
const n = Number(values.n);
const dir = mkdtempSync(join(tmpdir(), "skiff-bench-kube-"));
const double = new KubeApiDouble({ simulate: true, workDir: dir });
await double.start();
const config = new KubeConfig();
config.loadFromFile(double.writeKubeconfig());
const executor = createKubernetesExecutor({
  config,
  workDir: join(dir, "work"),
  qps: Number(values.qps),
  burst: Number(values.burst),
});
const yaml = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fanout}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - {name: leaf, template: leaf, withSequence: {count: "${n}"}}
    - name: leaf
      container: {image: busybox, command: ["true"]}
`;
const { manifests } = parseManifests(yaml, "fanout.yaml");
const compiled = compile(manifests[0]!, Library.from(manifests));
const started = Date.now();
const wf = await startWorkflow(compiled, {
  executor,
  clock: new SystemClock(),
  artifactRepository: createLocalRepository(join(dir, "artifacts")),
  workspace: dir,
}).done;
const wall = Date.now() - started;
await executor.cleanup();
const created = double.runner.createdAt;
const span = (Math.max(...created) - Math.min(...created)) / 1000;
const stats = double.store.stats;
const validated = stats.validated.Pod ?? 0;
const rejected = stats.rejected.Pod ?? 0;
console.log(
  JSON.stringify({
    steps: n,
    phase: wf.status?.phase,
    podsCreated: created.length,
    podsPerSecond: Number((created.length / Math.max(span, 0.001)).toFixed(1)),
    wallSeconds: Number((wall / 1000).toFixed(1)),
    podSpecsValidatedPercent: Number(((100 * validated) / Math.max(validated + rejected, 1)).toFixed(2)),
    leftovers: double.leftovers().length,
    failures: Object.values(wf.status?.nodes ?? {})
      .filter((n) => n.type === "Pod" && n.phase !== "Succeeded")
      .slice(0, 3)
      .map((n) => n.message),
    qps: Number(values.qps),
    burst: Number(values.burst),
  }),
);
await double.stop();
rmSync(dir, { recursive: true, force: true });
