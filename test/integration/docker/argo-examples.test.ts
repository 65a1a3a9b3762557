import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import { startWorkflow } from "../../../runtime/controller/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { compile, Library, loadPaths, type LoadedManifest } from "../../../runtime/spec/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import {
  CORPUS,
  CORPUS_PRESENT,
  expectedRuns,
  SKIP_MESSAGE,
  type ExpectedRow,
} from "../../conformance/corpus.js";
import { createDockerExecutor, LABELS } from "../../../runtime/executors/docker/index.js";
import { BUSYBOX, DOCKER_AVAILABLE, leftovers } from "./helpers.js";
import { NOT_ON_DOCKER } from "./argo-examples-excluded.js";

/**
 * Every example of Argo's corpus with an outcome in EXPECTED.tsv runs on the Docker executor through the
 * controller, except the ones in `NOT_ON_DOCKER` (each with its reason, also listed in docs/conformance.md).
 * Their images have local stand-ins built by ci-docker.sh (busybox, alpine, argosay, python, and node-based
 * doubles of nginx and InfluxDB). Each must end as EXPECTED.tsv says and leave no container or volume.
 */

const here = dirname(fileURLToPath(import.meta.url));
const TOOLS = "skiff-test/tools:latest";

const IMAGE_MAP = {
  "argoproj/argosay": "skiff-test/argosay:latest",
  "docker/whalesay": "skiff-test/argosay:latest",
  busybox: BUSYBOX,
  alpine: TOOLS,
  "curlimages/curl": TOOLS,
  nginx: TOOLS,
  influxdb: TOOLS,
  // The tools image carries the host's node, which runs scripts-javascript.yaml's source.
  node: TOOLS,
  python: "skiff-test/python:latest",
};

/** The stand-ins' entrypoints, as Argo's controller `images:` setting gives them. */
const IMAGES = {
  nginx: { entrypoint: ["nginx", "-g", "daemon off;"] },
  influxdb: { entrypoint: ["influxd"] },
  "argoproj/argosay:v1": { entrypoint: ["/argosay"] },
  "argoproj/argosay:v2": { entrypoint: ["/argosay"] },
};

/** Examples run at once: each is a handful of containers; the machine is shared. */
const PARALLEL = 3;

/** Examples that wait on purpose (sleeps, timeouts, many pods): started first so none is left alone at the end. */
const SLOW_FIRST = [
  "dag-disable-failFast.yaml",
  "variables-showcase.yaml",
  "map-reduce.yaml",
  "dag-task-level-timeout.yaml",
  "daemon-step.yaml",
  "timeouts-step.yaml",
];

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

interface Outcome {
  workflow?: Workflow;
  error?: string;
  leftovers?: { containers: string[]; volumes: string[] };
  ms?: number;
}

describe.skipIf(!DOCKER_AVAILABLE || !CORPUS_PRESENT)("Argo's examples on the Docker executor", () => {
  const rows: ExpectedRow[] = CORPUS_PRESENT ? expectedRuns().filter((r) => !(r.file in NOT_ON_DOCKER)) : [];
  const outcomes = new Map<string, Outcome>();
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skiff-docker-examples-"));
    const manifests = (await loadPaths([CORPUS])).manifests;
    // The whole corpus: WorkflowTemplates, ClusterWorkflowTemplates and ConfigMaps the examples refer to.
    const library = Library.from(manifests);
    const byFile = new Map<string, LoadedManifest[]>();
    for (const m of manifests) {
      const rel = m.file.slice(CORPUS.length + 1);
      if (m.object.kind === "Workflow") byFile.set(rel, [...(byFile.get(rel) ?? []), m]);
    }
    const runOne = async (row: ExpectedRow): Promise<Outcome> => {
      const manifest = byFile.get(row.file)?.[0];
      if (!manifest) return { error: "no Workflow in the file" };
      const executor = createDockerExecutor({
        imageMap: IMAGE_MAP,
        images: IMAGES,
        workDir: join(dir, "work"),
        killGracePeriodMs: 2000,
      });
      const outcome: Outcome = {};
      const started = Date.now();
      try {
        const compiled = compile(manifest, library);
        const running = startWorkflow(compiled, {
          executor,
          clock: new SystemClock(),
          artifactRepository: createLocalRepository(join(dir, "artifacts"), {
            localPlugins: ["test"],
            remote: { secrets: (name) => compiled.secrets.get(name) },
          }),
          workspace: dir,
        });
        // A run still going after this has hung (Argo's own test gives each example a few minutes).
        const timer = setTimeout(() => running.stop("Terminate"), 120_000);
        try {
          outcome.workflow = await running.done;
        } finally {
          clearTimeout(timer);
        }
      } catch (e) {
        outcome.error = `${(e as { code?: string }).code ?? ""} ${(e as Error).message}`;
      } finally {
        await executor.cleanup();
      }
      outcome.ms = Date.now() - started;
      outcome.leftovers = await leftovers(`${LABELS.executor}=${executor.instanceId}`);
      return outcome;
    };
    const rank = (r: ExpectedRow) => (SLOW_FIRST.includes(r.file) ? 0 : 1);
    const queue = [...rows].sort((a, b) => rank(a) - rank(b));
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const row = queue[next++]!;
        outcomes.set(row.file, await runOne(row));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    // Where the time goes, to keep the file within its budget (~4 minutes).
    const slowest = [...outcomes]
      .sort(([, a], [, b]) => (b.ms ?? 0) - (a.ms ?? 0))
      .slice(0, 8)
      .map(([file, o]) => `${file} ${((o.ms ?? 0) / 1000).toFixed(1)}s`);
    console.log(`slowest Docker examples: ${slowest.join(", ")}`);
  });

  it("runs every example EXPECTED.tsv asserts, but the ones listed with a reason", () => {
    const asserted = CORPUS_PRESENT ? expectedRuns().map((r) => r.file) : [];
    for (const file of Object.keys(NOT_ON_DOCKER))
      expect(asserted, `${file} is not in EXPECTED.tsv`).toContain(file);
    expect(rows.length + Object.keys(NOT_ON_DOCKER).length).toBe(asserted.length);
    const docs = readFileSync(join(here, "../../../docs/conformance.md"), "utf8");
    const section = docs.slice(docs.indexOf("## On the Docker executor"));
    for (const file of Object.keys(NOT_ON_DOCKER))
      expect(section, `docs/conformance.md does not say why ${file} is not run on Docker`).toContain(
        `\`${file}\``,
      );
    expect(section).toContain(`**${rows.length} of the ${asserted.length} examples`);
  });

  for (const row of rows) {
    it(`${row.file} ends ${row.phases.join(" or ")}`, () => {
      const o = outcomes.get(row.file);
      expect(o, "not run").toBeDefined();
      const wf = o!.workflow;
      const failures = Object.values(wf?.status?.nodes ?? {})
        .filter((n) => n.phase !== "Succeeded" && n.message)
        .map((n) => `${n.displayName}: ${n.message}`);
      expect(
        row.phases,
        `${o!.error ?? ""}${wf?.status?.phase}: ${wf?.status?.message ?? ""} ${failures.join("; ")}`,
      ).toContain(wf?.status?.phase);
      expect(o!.leftovers).toEqual({ containers: [], volumes: [] });
    });
  }
});
