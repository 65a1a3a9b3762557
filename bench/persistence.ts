// What persisting every transition costs, on the 1,000-task workflow of benchmark (a) (layered 10x100, steps
// `true`, workflow parallelism 2, host executor without sandbox): the same workflow run with no store, with the
// embedded store and with PostgreSQL (a throwaway cluster with PostgreSQL's default durability), in this one
// process, alternating. The store is wrapped to sum the time its puts take. Writes the section between
// `<!-- persistence:start -->` and `<!-- persistence:end -->` of docs/performance.md.
//   npx tsx bench/persistence.ts [--repeats N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startWorkflow } from "../runtime/controller/index.js";
import { createHostExecutor } from "../runtime/executors/host/index.js";
import { SystemClock } from "../runtime/interfaces/clock.js";
import type { ControllerEvent } from "../runtime/interfaces/events.js";
import type { PutOptions, Store } from "../runtime/interfaces/store.js";
import { compile, Library, parseManifests } from "../runtime/spec/index.js";
import type { CompiledWorkflow } from "../runtime/spec/compiled.js";
import type { Workflow } from "../runtime/spec/types.js";
import { openEmbeddedStore } from "../runtime/store/embedded/index.js";
import { openPostgresStore } from "../runtime/store/postgres/index.js";
import { startPostgresServer } from "../test/integration/store/postgres-server.js";

const LAYERS = 10;
const WIDTH = 100;
const START_MARK = "<!-- persistence:start -->";
const END_MARK = "<!-- persistence:end -->";
const DOC = "docs/performance.md";

const repeatsArg = process.argv.indexOf("--repeats");
const repeats = repeatsArg > 0 ? Number(process.argv[repeatsArg + 1]) : 3;

function layeredWorkflow(): CompiledWorkflow {
  const groups = Array.from({ length: LAYERS }, (_, l) =>
    Array.from({ length: WIDTH }, (_, i) => ({ name: `s${l}-${i}`, template: "t" })),
  );
  const text = stringify({
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "bench-persistence" },
    spec: {
      entrypoint: "main",
      parallelism: 2,
      templates: [
        { name: "main", steps: groups },
        { name: "t", container: { image: "alpine:3.23", command: ["true"] } },
      ],
    },
  });
  const loaded = parseManifests(text, "bench.yaml");
  return compile(loaded.manifests[0]!, Library.from(loaded.manifests), {});
}

interface Sample {
  ms: number;
  puts: number;
  putMs: number;
  /** Node creations and phase changes: what the controller persists. */
  transitions: number;
  nodes: number;
}

/** The store as the controller sees it, timing each put from call to durable. */
function timed(store: Store, sample: Sample): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "put")
        return async (wf: Workflow, options?: PutOptions) => {
          const t0 = performance.now();
          try {
            await target.put(wf, options);
          } finally {
            sample.putMs += performance.now() - t0;
            sample.puts++;
          }
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function runOnce(compiled: CompiledWorkflow, store: Store | undefined): Promise<Sample> {
  const work = mkdtempSync(join(tmpdir(), "skiff-bench-persist-"));
  const sample: Sample = { ms: 0, puts: 0, putMs: 0, transitions: 0, nodes: 0 };
  const executor = createHostExecutor({ sandbox: "none", workDir: join(work, "steps") });
  try {
    const onEvent = (e: ControllerEvent) => {
      if (e.type === "node-updated") sample.transitions++;
    };
    const t0 = performance.now();
    const run = startWorkflow(compiled, {
      executor,
      clock: new SystemClock(),
      workspace: work,
      onEvent,
      ...(store ? { store: timed(store, sample) } : {}),
    });
    const wf = await run.done;
    sample.ms = performance.now() - t0;
    if (wf.status?.phase !== "Succeeded") throw new Error(`benchmark workflow ended ${wf.status?.phase}`);
    sample.nodes = Object.keys(wf.status.nodes ?? {}).length;
    // Each run writes its own copy: the next one must not find it.
    if (store) await store.delete(wf.metadata.namespace ?? "default", wf.metadata.name ?? "");
    return sample;
  } finally {
    await executor.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Medians over the samples of one configuration (each figure on its own). */
function summarize(samples: Sample[]) {
  return {
    ms: median(samples.map((s) => s.ms)),
    puts: median(samples.map((s) => s.puts)),
    putMs: median(samples.map((s) => s.putMs)),
    transitions: median(samples.map((s) => s.transitions)),
    perTransitionMs: median(samples.map((s) => s.putMs / s.transitions)),
    perPutMs: median(samples.map((s) => (s.puts ? s.putMs / s.puts : 0))),
    share: median(samples.map((s) => s.putMs / s.ms)),
    nodes: samples[0]!.nodes,
  };
}

async function main() {
  const compiled = layeredWorkflow();
  const loadBefore = loadavg()[0]!;
  const stateDir = mkdtempSync(join(tmpdir(), "skiff-bench-store-"));
  const embedded = await openEmbeddedStore({ dir: stateDir });
  const pg = await startPostgresServer({ durable: true });
  const postgres = "url" in pg ? await openPostgresStore({ connectionString: pg.url }) : undefined;
  if ("skip" in pg) console.warn(pg.skip.replace("PostgreSQL tests skipped", "PostgreSQL skipped"));
  const configs: { name: string; store: Store | undefined; samples: Sample[] }[] = [
    { name: "no store", store: undefined, samples: [] },
    { name: "embedded", store: embedded, samples: [] },
    ...(postgres ? [{ name: "PostgreSQL", store: postgres, samples: [] }] : []),
  ];
  try {
    // A warm-up run loads the code paths and the step binary's pages.
    await runOnce(compiled, undefined);
    for (let r = 0; r < repeats; r++) {
      for (const c of configs) {
        const s = await runOnce(compiled, c.store);
        c.samples.push(s);
        console.log(
          `${c.name} #${r + 1}: ${s.ms.toFixed(0)} ms, ${s.puts} puts (${s.putMs.toFixed(0)} ms), ${s.transitions} transitions`,
        );
      }
    }
  } finally {
    await embedded.close();
    await postgres?.close();
    if ("stop" in pg) await pg.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }

  const base = summarize(configs[0]!.samples);
  const load = `${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;
  const lines = [
    "## Persistence overhead",
    "",
    `Measured by \`npx tsx bench/persistence.ts\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} cores, Node ${process.version}): the`,
    `${LAYERS * WIDTH}-task workflow of (a) (layered ${LAYERS}x${WIDTH}, steps \`true\`, parallelism 2, no sandbox, ${base.nodes} nodes), run`,
    `with no store, with the embedded store (durable: each put is flushed to disk) and with PostgreSQL (a local`,
    `throwaway cluster with PostgreSQL's default durability), alternating, ${repeats} runs each; medians. "In the store" sums the`,
    "time from each `put` call to its durable completion. The controller keeps running steps while a put is in",
    "flight (at most one waits behind it, carrying every change made meanwhile), so the share of run time spent",
    "in puts is an upper bound of what persistence costs; the difference in run time against the run with no store",
    `is what it did cost. Load average of the machine (1 min): ${load}.`,
    "",
    "| store | run time | vs no store | puts | transitions | in the store per transition | per put | share of run time |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const c of configs) {
    const s = summarize(c.samples);
    const vs = c.store ? `${((s.ms / base.ms - 1) * 100).toFixed(1)}%` : "—";
    lines.push(
      c.store
        ? `| ${c.name} | ${(s.ms / 1000).toFixed(2)} s | ${vs} | ${s.puts} | ${s.transitions} | ${s.perTransitionMs.toFixed(3)} ms | ${s.perPutMs.toFixed(2)} ms | ${(s.share * 100).toFixed(1)}% |`
        : `| ${c.name} | ${(s.ms / 1000).toFixed(2)} s | ${vs} | — | ${s.transitions} | — | — | — |`,
    );
  }
  if (!postgres) lines.push("", `PostgreSQL was not measured: ${"skip" in pg ? pg.skip : ""}`);
  const section = lines.join("\n");
  console.log(`\n${section}`);
  writeSection(section);
}

/** Replaces the persistence block of docs/performance.md (appended when absent). */
function writeSection(section: string): void {
  let doc = "";
  try {
    doc = readFileSync(DOC, "utf8");
  } catch {
    // No file yet: the block is all there is.
  }
  const block = `${START_MARK}\n${section}\n${END_MARK}`;
  const start = doc.indexOf(START_MARK);
  const end = doc.indexOf(END_MARK);
  const next =
    start >= 0 && end > start
      ? doc.slice(0, start) + block + doc.slice(end + END_MARK.length)
      : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, next);
}

await main();
