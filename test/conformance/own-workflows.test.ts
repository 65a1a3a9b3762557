import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, Library, loadPaths } from "../../runtime/spec/index.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { loadConfig, type SkiffConfig } from "../../src/config/index.js";
import { runCompiledWorkflow } from "../../src/run/engine.js";
import { checkNodes } from "./node-checks.js";
import { checkValues, OWN_CHECKS, OWN_WORKFLOWS, ownWorkflows } from "./own-workflows.js";

const here = dirname(fileURLToPath(import.meta.url));
const IMAGES = resolve(here, "../fixtures/images/host-images.yaml");

/** Skiff's own conformance workflows on the host executor, as the Argo examples run. */
describe("Skiff's conformance workflows on the host executor", () => {
  const rows = ownWorkflows();
  const outcomes = new Map<string, { wf?: Workflow; error?: string }>();
  let stateDir = "";

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "skiff-own-conformance-"));
    const config: SkiffConfig = await loadConfig(IMAGES);
    config.stateDir = stateDir;
    const loaded = await loadPaths([OWN_WORKFLOWS]);
    const library = Library.from(loaded.manifests);
    await Promise.all(
      rows.map(async (row) => {
        const manifest = loaded.manifests.find(
          (m) => m.file.endsWith(`/${row.file}`) && m.object.kind === "Workflow",
        );
        try {
          if (!manifest) throw new Error("no Workflow found in the file");
          const compiled = compile(manifest, library, {});
          const workspace = join(stateDir, "workspace", row.file);
          mkdirSync(workspace, { recursive: true });
          const signal = AbortSignal.timeout(120_000);
          outcomes.set(row.file, { wf: await runCompiledWorkflow(compiled, config, { workspace, signal }) });
        } catch (e) {
          outcomes.set(row.file, { error: `${(e as { code?: string }).code ?? ""} ${(e as Error).message}` });
        }
      }),
    );
  }, 300_000);

  afterAll(() => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  for (const row of rows) {
    it(`${row.file} ends ${row.phase}`, () => {
      const o = outcomes.get(row.file);
      expect(o?.error).toBeUndefined();
      const wf = o!.wf!;
      const nodes = Object.values(wf.status?.nodes ?? {})
        .map((n) => `${n.name}: ${n.phase} ${n.message ?? ""}`)
        .join("\n");
      expect(wf.status?.phase, `${wf.status?.message ?? ""}\n${nodes}`).toBe(row.phase);
      const checks = OWN_CHECKS[row.file];
      expect(checks, `${row.file}: add its checks to own-workflows.ts`).toBeDefined();
      checkNodes(wf, checks!.nodes);
      checkValues(wf, checks!);
    });
  }
});
