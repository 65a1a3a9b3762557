import {
  startWorkflow,
  SyncManager,
  type ControllerOptions,
  type RunningWorkflow,
} from "../../../runtime/controller/index.js";
import type { ControllerEvent } from "../../../runtime/interfaces/events.js";
import { compile, Library, nodeId, parseManifests } from "../../../runtime/spec/index.js";
import type { CompiledWorkflow } from "../../../runtime/spec/compiled.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";

export const START = Date.UTC(2024, 0, 1);

/** Compiles the Workflow in an inline YAML text (other documents: templates, ConfigMaps). */
export function compileYaml(yaml: string, parameters?: Record<string, string>): CompiledWorkflow {
  const loaded = parseManifests(yaml, "test.yaml");
  if (loaded.problems.length) throw loaded.problems[0];
  const library = Library.from(loaded.manifests);
  const wf = loaded.manifests.find((m) => m.object.kind === "Workflow");
  if (!wf) throw new Error("no Workflow in test YAML");
  return compile(wf, library, parameters ? { parameters } : {});
}

export interface Harness {
  clock: FakeClock;
  exec: FakeExecutor;
  events: ControllerEvent[];
  sync: SyncManager;
}

export function harness(opts: { auto?: boolean; resource?: boolean } = {}): Harness {
  const clock = new FakeClock({ start: START, autoAdvance: opts.auto ?? true });
  const exec = new FakeExecutor({ clock, capabilities: { resource: opts.resource ?? false } });
  return { clock, exec, events: [], sync: new SyncManager() };
}

export function start(
  yaml: string | CompiledWorkflow,
  h: Harness,
  extra: Partial<ControllerOptions> = {},
): RunningWorkflow {
  const compiled = typeof yaml === "string" ? compileYaml(yaml) : yaml;
  return startWorkflow(compiled, {
    executor: h.exec,
    clock: h.clock,
    synchronization: h.sync,
    onEvent: (e) => h.events.push(e),
    ...extra,
  });
}

export async function run(yaml: string, h: Harness = harness(), extra: Partial<ControllerOptions> = {}) {
  const wf = await start(yaml, h, extra).done;
  return { wf, ...h, n: nodeFinder(wf) };
}

/** Finds a node by full name; throws with the list of names when absent. */
export function nodeFinder(wf: Workflow) {
  const nodes = wf.status?.nodes ?? {};
  const byName = (name: string): NodeStatus => {
    const node = nodes[nodeId(wf.metadata.name ?? "", name)];
    if (!node)
      throw new Error(
        `no node ${name}; have: ${Object.values(nodes)
          .map((x) => x.name)
          .join(", ")}`,
      );
    return node;
  };
  return Object.assign(byName, {
    has: (name: string) => nodes[nodeId(wf.metadata.name ?? "", name)] !== undefined,
    id: (name: string) => nodeId(wf.metadata.name ?? "", name),
    names: () =>
      Object.values(nodes)
        .map((x) => x.name)
        .sort(),
    count: () => Object.keys(nodes).length,
  });
}

/** Waits until `predicate` holds, letting promises and macrotasks run (never advances the clock). */
export async function until(predicate: () => boolean, turns = 200): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("condition not reached");
}
