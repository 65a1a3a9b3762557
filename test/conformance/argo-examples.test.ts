import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, Library, loadPaths, type LoadedManifest } from "../../runtime/spec/index.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { loadConfig, type SkiffConfig } from "../../src/config/index.js";
import { runCompiledWorkflow } from "../../src/run/engine.js";
import { CORPUS, CORPUS_PRESENT, expectedRuns, SKIP_MESSAGE, type ExpectedRow } from "./corpus.js";
import { KNOWN_MISMATCHES } from "./known-mismatches.js";
import { NODE_CHECKS, checkNodes } from "./node-checks.js";
import { startNetworkDouble, type NetworkDouble } from "./network-double.js";

const here = dirname(fileURLToPath(import.meta.url));
const IMAGES = resolve(here, "../fixtures/images/host-images.yaml");

/** Examples that bind fixed ports (nginx on 80, InfluxDB on 8086): they run one at a time. */
const SERIAL = new Set(["daemon-nginx.yaml", "sidecar-nginx.yaml", "daemon-step.yaml", "sidecar.yaml"]);

interface Outcome {
  row: ExpectedRow;
  workflows: Workflow[];
  error?: string;
}

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

describe.skipIf(!CORPUS_PRESENT)("Argo's examples on the host executor", () => {
  const rows = CORPUS_PRESENT ? expectedRuns() : [];
  const outcomes = new Map<string, Outcome>();
  let stateDir = "";
  let network: NetworkDouble | undefined;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "skiff-conformance-"));
    const config: SkiffConfig = await loadConfig(IMAGES);
    config.stateDir = stateDir;
    // The examples that call the internet reach a local stand-in through hostAliases, as a pod would a mirror.
    network = await startNetworkDouble();
    const caFile = join(stateDir, "test-ca.pem");
    writeFileSync(caFile, network.caPem);
    config.extraCAFiles = [caFile];
    config.workflowDefaults = { spec: { hostAliases: network.hostAliases } };
    const loaded = await loadPaths([CORPUS]);
    const library = Library.from(loaded.manifests);
    const byFile = new Map<string, LoadedManifest[]>();
    for (const m of loaded.manifests) {
      const rel = m.file.slice(CORPUS.length + 1);
      if (m.object.kind === "Workflow") byFile.set(rel, [...(byFile.get(rel) ?? []), m]);
    }
    const runOne = async (row: ExpectedRow): Promise<Outcome> => {
      const manifests = byFile.get(row.file) ?? [];
      if (manifests.length === 0) return { row, workflows: [], error: "no Workflow found in the file" };
      const workflows: Workflow[] = [];
      try {
        for (const m of manifests) {
          const compiled = compile(m, library, { workflowDefaults: config.workflowDefaults });
          const workspace = join(stateDir, "workspace", compiled.workflow.metadata.name ?? "wf");
          mkdirSync(workspace, { recursive: true });
          // Argo's own test gives each example a few minutes; a run still going after that has hung.
          const signal = AbortSignal.timeout(180_000);
          workflows.push(await runCompiledWorkflow(compiled, config, { workspace, signal }));
        }
        return { row, workflows };
      } catch (e) {
        return { row, workflows, error: `${(e as { code?: string }).code ?? ""} ${(e as Error).message}` };
      }
    };
    const parallel = rows.filter((r) => !SERIAL.has(r.file));
    let next = 0;
    const worker = async () => {
      while (next < parallel.length) {
        const row = parallel[next++]!;
        outcomes.set(row.file, await runOne(row));
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    for (const row of rows.filter((r) => SERIAL.has(r.file))) outcomes.set(row.file, await runOne(row));
  }, 900_000);

  afterAll(async () => {
    await network?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const phaseOf = (o: Outcome | undefined) =>
    o?.error
      ? `rejected: ${o.error}`
      : (o?.workflows.map((w) => w.status?.phase ?? "?").join(",") ?? "not run");
  const matches = (o: Outcome | undefined) =>
    !!o &&
    !o.error &&
    o.workflows.length > 0 &&
    o.workflows.every((w) => o.row.phases.includes(w.status?.phase as never));

  for (const row of rows) {
    const known = KNOWN_MISMATCHES[row.file];
    it(`${row.file} ends ${row.phases.join(" or ")}${known ? " (known mismatch)" : ""}`, () => {
      const o = outcomes.get(row.file);
      if (known) {
        // A known mismatch must still be one: when it starts matching, take it off the list and the docs.
        expect(
          matches(o),
          `${row.file} now matches: remove it from known-mismatches.ts and docs/conformance.md`,
        ).toBe(false);
        return;
      }
      const detail = `got ${phaseOf(o)}; ${o?.workflows.map((w) => `${w.metadata.name}: ${w.status?.message ?? ""}`).join("; ")}`;
      expect(matches(o), detail).toBe(true);
      const checks = NODE_CHECKS[row.file];
      if (checks) for (const wf of o!.workflows) checkNodes(wf, checks);
    });
  }

  it("matches Argo's final phase on at least 95% of the examples", () => {
    const total = rows.length;
    const matched = rows.filter((r) => matches(outcomes.get(r.file))).length;
    const report = rows
      .map(
        (r) =>
          `${matches(outcomes.get(r.file)) ? "ok  " : "MISS"} ${r.file}: expected ${r.phases.join("|")}, got ${phaseOf(outcomes.get(r.file))}`,
      )
      .join("\n");
    if (process.env.SKIFF_CONFORMANCE_REPORT)
      writeFileSync(process.env.SKIFF_CONFORMANCE_REPORT, report + "\n");
    console.log(
      `conformance: ${matched}/${total} examples reach Argo's phase (${((100 * matched) / total).toFixed(1)}%)`,
    );
    expect(matched / total).toBeGreaterThanOrEqual(0.95);
  });

  it("checks nodes (names, types, phases) on at least 30 examples", () => {
    expect(Object.keys(NODE_CHECKS).length).toBeGreaterThanOrEqual(30);
  });
});
