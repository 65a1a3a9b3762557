import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { startWorkflow, SyncManager } from "../../../runtime/controller/index.js";
import type { PutOptions, Store } from "../../../runtime/interfaces/store.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";

const CORPUS = join(import.meta.dirname, "../../../../shared/conformance/argo-examples");
const EXAMPLES = join(import.meta.dirname, "../../../examples");

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(f)) out.push(p);
  }
  return out;
}

/**
 * A store that applies each put as a delta store would (only the nodes `changedNodes` names) and compares the
 * result with the whole workflow it was given: a node the controller changed without naming it shows up here.
 */
class DeltaCheckingStore {
  private copy: Record<string, NodeStatus> | undefined;
  puts = 0;
  deltaPuts = 0;
  readonly problems: string[] = [];

  constructor(private readonly label: string) {}

  put(wf: Workflow, options?: PutOptions): Promise<void> {
    this.puts++;
    const nodes = wf.status?.nodes ?? {};
    if (!options?.changedNodes || !this.copy) {
      this.copy = structuredClone(nodes);
      return Promise.resolve();
    }
    this.deltaPuts++;
    for (const id of options.changedNodes) {
      const node = nodes[id];
      if (node) this.copy[id] = structuredClone(node);
      else delete this.copy[id];
    }
    for (const id of new Set([...Object.keys(nodes), ...Object.keys(this.copy)])) {
      if (!isDeepStrictEqual(this.copy[id], nodes[id])) {
        this.problems.push(`${this.label}: put ${this.puts}: node ${nodes[id]?.name ?? id} changed unnamed`);
        console.log(JSON.stringify(this.copy[id]), "\n", JSON.stringify(nodes[id]));
        this.copy[id] = structuredClone(nodes[id]!);
      }
    }
    return Promise.resolve();
  }
}

/** Macrotask turns without a pending clock timer or a put after which a run only moves on a resume. */
const QUIET_TURNS = 50;

/**
 * Waits until `done()` or until the run waits for someone: no clock timer pending and no put for
 * QUIET_TURNS turns (a suspend without a duration). Counts turns of the event loop, not real time, so a
 * loaded machine waits as long as an idle one.
 */
async function settled(done: () => boolean, clock: FakeClock, store: DeltaCheckingStore): Promise<void> {
  let quiet = 0;
  let puts = store.puts;
  while (!done() && quiet < QUIET_TURNS) {
    await new Promise<void>((r) => setImmediate(r));
    if (clock.pendingTimers > 0 || store.puts !== puts) {
      quiet = 0;
      puts = store.puts;
    } else quiet++;
  }
}

async function runChecked(
  file: string,
): Promise<{ store: DeltaCheckingStore; started: number; ran: number }> {
  const store = new DeltaCheckingStore(file);
  let started = 0;
  let ran = 0;
  const loaded = parseManifests(readFileSync(file, "utf8"), file);
  const library = Library.from(loaded.manifests);
  for (const m of loaded.manifests) {
    if (m.object.kind !== "Workflow") continue;
    let compiled;
    try {
      compiled = compile(m, library, { generateNameSuffix: () => "abcde" });
    } catch {
      continue;
    }
    started++;
    const clock = new FakeClock({ start: Date.parse("2024-01-01T00:00:00Z"), autoAdvance: true });
    const exec = new FakeExecutor({
      clock,
      capabilities: { resource: true },
      defaultScript: (req) => ({
        ...(req.daemon ? {} : { duration: 1000 }),
        stdout: req.template.script ? "1" : "",
        outputParameters: Object.fromEntries(
          (req.template.outputs?.parameters ?? []).map((p) => [p.name, p.valueFrom?.default ?? "1"]),
        ),
      }),
    });
    const run = startWorkflow(compiled, {
      executor: exec,
      clock,
      synchronization: new SyncManager(),
      store: store as unknown as Store,
    });
    let final: Workflow | undefined;
    let failed = false;
    run.done.then(
      (wf) => (final = wf),
      () => (failed = true),
    );
    for (let round = 0; round < 20 && !final && !failed; round++) {
      await settled(() => final !== undefined || failed, clock, store);
      if (final || failed) break;
      try {
        run.resume();
      } catch {
        run.stop("Stop");
      }
    }
    if (!final) {
      run.stop("Terminate");
      continue;
    }
    ran++;
  }
  return { store, started, ran };
}

describe("the controller's changed nodes", () => {
  const files = [
    ...(existsSync(EXAMPLES) ? yamlFiles(EXAMPLES) : []),
    ...(existsSync(CORPUS) ? yamlFiles(CORPUS) : []),
  ];
  if (!existsSync(CORPUS)) console.warn(`skipping the Argo example corpus: ${CORPUS} is absent`);

  it("name every node a put changed, over our examples and Argo's example corpus", async () => {
    let started = 0;
    let ran = 0;
    let deltaPuts = 0;
    const problems: string[] = [];
    for (const file of files) {
      const r = await runChecked(file);
      started += r.started;
      ran += r.ran;
      deltaPuts += r.store.deltaPuts;
      problems.push(...r.store.problems);
    }
    expect(problems).toEqual([]);
    // Every run finishes (waiting counts turns of the event loop, not real time), and puts after the first
    // were deltas, so the check above was not vacuous.
    expect(ran).toBe(started);
    expect(deltaPuts).toBeGreaterThan(0);
  }, 300_000);
});
