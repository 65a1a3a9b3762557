// One benchmark scenario, run in its own process so peak RSS is its own. Prints one JSON line.
//   tsx bench/scenario.ts <scenario> [options as JSON]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { compile, Library, parseManifests } from "../runtime/spec/index.js";
import type { Executor, StepHandle, StepRequest, StepResult } from "../runtime/interfaces/executor.js";
import { defaultConfig } from "../src/config/index.js";
import { runCompiledWorkflow } from "../src/run/engine.js";
import { timeBareSpawn, timeMake, type Layers } from "./baselines.js";

type Args = Record<string, unknown>;

function workflowText(spec: Record<string, unknown>): string {
  return stringify({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "bench" },
    spec,
  });
}

const trueContainer = { image: "alpine:3.23", command: ["true"] };

/** `layers` groups of `width` parallel steps (each waits for the whole previous group). */
function layeredWorkflow(layers: number, width: number, parallelism: number): string {
  const groups = Array.from({ length: layers }, (_, l) =>
    Array.from({ length: width }, (_, i) => ({ name: `s${l}-${i}`, template: "t" })),
  );
  return workflowText({
    entrypoint: "main",
    parallelism,
    templates: [
      { name: "main", steps: groups },
      { name: "t", container: trueContainer },
    ],
  });
}

/** One DAG task expanded over `n` items. */
function fanOutWorkflow(n: number, parallelism: number): string {
  return workflowText({
    entrypoint: "main",
    parallelism,
    templates: [
      { name: "main", dag: { tasks: [{ name: "fan", template: "t", withSequence: { count: String(n) } }] } },
      { name: "t", container: trueContainer },
    ],
  });
}

/** A chain of `n` DAG tasks, each depending on the one before. */
function chainWorkflow(n: number): string {
  const tasks = Array.from({ length: n }, (_, i) => ({
    name: `c${i}`,
    template: "t",
    ...(i > 0 ? { depends: `c${i - 1}` } : {}),
  }));
  return workflowText({
    entrypoint: "main",
    templates: [
      { name: "main", dag: { tasks } },
      { name: "t", container: trueContainer },
    ],
  });
}

async function runSkiff(text: string, sandbox: "none" | "bwrap", wrap?: (e: Executor) => Executor) {
  const state = mkdtempSync(join(tmpdir(), "skiff-bench-"));
  try {
    const loaded = parseManifests(text, "bench.yaml");
    const library = Library.from(loaded.manifests);
    const compiled = compile(loaded.manifests[0]!, library, {});
    const config = defaultConfig();
    config.stateDir = state;
    config.host.sandbox = sandbox;
    config.executor = "host";
    const t0 = performance.now();
    const wf = await runCompiledWorkflow(compiled, config, { workspace: state, wrapExecutor: wrap });
    const ms = performance.now() - t0;
    if (wf.status?.phase !== "Succeeded")
      throw new Error(`bench workflow ended ${wf.status?.phase}: ${wf.status?.message}`);
    return { ms, nodes: Object.keys(wf.status?.nodes ?? {}).length };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

/** Records when each step was asked to start and when its end was reported to the controller. */
function latencyProbe() {
  const startedAt = new Map<string, number>();
  const endedAt = new Map<string, number>();
  const wrap = (inner: Executor): Executor => ({
    name: inner.name,
    capabilities: inner.capabilities,
    start: (step: StepRequest): Promise<StepHandle> => {
      startedAt.set(step.nodeName, performance.now());
      return inner.start(step);
    },
    ready: (h) => inner.ready(h),
    wait: async (h): Promise<StepResult> => {
      const r = await inner.wait(h);
      endedAt.set(h.nodeId, performance.now());
      return r;
    },
    logs: (h) => inner.logs(h),
    kill: (h, reason) => inner.kill(h, reason),
    cleanup: () => inner.cleanup(),
  });
  return { startedAt, endedAt, wrap };
}

/** The same `true`, optionally wrapped in a minimal bubblewrap sandbox (the floor for a sandboxed step). */
const BWRAP = [
  "bwrap",
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--tmpfs",
  "/tmp",
  "--unshare-pid",
  "--die-with-parent",
  "true",
];
const layersFor = (layers: number, width: number, bwrap = false): Layers =>
  Array.from({ length: layers }, () => Array.from({ length: width }, () => (bwrap ? BWRAP : ["true"])));

async function main() {
  const [scenario, json] = process.argv.slice(2);
  const args: Args = json ? (JSON.parse(json) as Args) : {};
  const sandbox = (args.sandbox as "none" | "bwrap" | undefined) ?? "none";
  let out: Record<string, unknown>;
  switch (scenario) {
    case "layered": {
      const layers = Number(args.layers ?? 10);
      const width = Number(args.width ?? 100);
      const r = await runSkiff(layeredWorkflow(layers, width, 2), sandbox);
      out = { ...r };
      break;
    }
    case "flat": {
      const n = Number(args.n ?? 1000);
      const r = await runSkiff(fanOutWorkflow(n, Number(args.parallelism ?? 2)), sandbox);
      out = { ...r };
      break;
    }
    case "make":
      out = { ms: timeMake(layersFor(Number(args.layers ?? 10), Number(args.width ?? 100)), 2) };
      break;
    case "spawn":
      out = {
        ms: await timeBareSpawn(
          layersFor(Number(args.layers ?? 10), Number(args.width ?? 100), args.bwrap === true),
          2,
        ),
      };
      break;
    case "latency": {
      const n = Number(args.n ?? 200);
      const probe = latencyProbe();
      const r = await runSkiff(chainWorkflow(n), sandbox, probe.wrap);
      // The dependency of task c<i> is c<i-1>; its end is keyed by node ID, so map names through the run.
      const samples: number[] = [];
      const names = [...probe.startedAt.keys()];
      const ends = [...probe.endedAt.values()];
      for (let i = 1; i < names.length && i - 1 < ends.length; i++) {
        samples.push(probe.startedAt.get(names[i]!)! - ends[i - 1]!);
      }
      samples.sort((a, b) => a - b);
      const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
      out = {
        ...r,
        samples: samples.length,
        medianMs: q(0.5),
        p99Ms: q(0.99),
        maxMs: samples[samples.length - 1],
      };
      break;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ scenario, args, ...out }) + "\n");
}

await main();
