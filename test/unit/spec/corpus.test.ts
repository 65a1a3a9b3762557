import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkExpressionSyntax } from "../../../runtime/expr/index.js";
import { compile, Library, lintPaths, loadPaths, type LoadedManifest } from "../../../runtime/spec/index.js";

/** Argo's own example workflows, kept outside the repository (see RULES: never copied in). */
const CORPUS = resolve(import.meta.dirname, "../../../../shared/conformance/argo-examples");
const present = existsSync(CORPUS);
if (!present) console.warn(`skipping Argo example corpus tests: ${CORPUS} not found`);

describe.skipIf(!present)("Argo's example corpus", () => {
  it("lints every Argo object without a problem (non-strict, as argo lint --strict=false)", async () => {
    const started = performance.now();
    const result = await lintPaths([CORPUS], { strict: false, checkExpressionSyntax });
    const elapsed = performance.now() - started;
    console.log(
      `lintPaths: ${result.files} files, ${result.objects} objects in ${elapsed.toFixed(0)} ms ` +
        `(${(elapsed / result.files).toFixed(2)} ms per file)`,
    );
    expect(result.problems.map((p) => `${p.location} ${p.code} ${p.message}`)).toEqual([]);
    expect(Object.keys(result.kinds).sort()).toEqual([
      "ClusterWorkflowTemplate",
      "ConfigMap",
      "CronWorkflow",
      "Workflow",
      "WorkflowTemplate",
    ]);
    expect(result.kinds.Workflow).toBeGreaterThan(150);
    // Other kinds in the directory (a PVC, a ResourceQuota, WorkflowEventBindings, a Grafana dashboard) are noted.
    expect(result.notes.length).toBeGreaterThan(0);
    expect(result.notes.every((n) => n.code === "SKF-SPEC-008" || n.code === "SKF-SPEC-002")).toBe(true);
  });

  it("in strict mode rejects only the example with a duplicate key", async () => {
    const result = await lintPaths([CORPUS], { strict: true, checkExpressionSyntax });
    expect(
      result.problems.map((p) => [relative(CORPUS, p.position?.file ?? ""), p.code, p.position?.line]),
    ).toEqual([["k8s-patch-json-workflow.yaml", "SKF-SPEC-002", 13]]);
  });

  it("compiles every Workflow, CronWorkflow and WorkflowTemplate with an entrypoint", async () => {
    const loaded = await loadPaths([CORPUS], { strict: false });
    const library = Library.from(loaded.manifests);
    const runnable = loaded.manifests.filter(
      (m) =>
        m.object.kind === "Workflow" ||
        m.object.kind === "CronWorkflow" ||
        ((m.object.kind === "WorkflowTemplate" || m.object.kind === "ClusterWorkflowTemplate") &&
          typeof (m.object.spec as { entrypoint?: unknown }).entrypoint === "string"),
    );
    const failures: string[] = [];
    let compiled = 0;
    for (const m of runnable) {
      try {
        // Templates submitted by hand need what their callers would pass: event-consumer expects the event to
        // supply `appellation`, print-message's entrypoint takes `message`.
        const parameters: Record<string, string> =
          m.object.kind === "Workflow" ? {} : { appellation: "world", message: "hi" };
        const c = compile(m, library, {
          generateNameSuffix: () => "abcde",
          parameters,
          checkExpressionSyntax,
        });
        expect(c.workflow.metadata.name).toMatch(/^[a-z0-9][-a-z0-9.]*$/);
        expect(c.getTemplate(c.entrypoint, c.rootScope)).toBeDefined();
        compiled++;
      } catch (e) {
        failures.push(`${label(m)}: ${String((e as Error).message)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(compiled).toBeGreaterThan(190);
  });

  it("resolves every step, task and hook reference of every compiled Workflow", async () => {
    const loaded = await loadPaths([CORPUS], { strict: false });
    const library = Library.from(loaded.manifests);
    let references = 0;
    for (const m of loaded.manifests.filter((x) => x.object.kind === "Workflow")) {
      const c = compile(m, library, { generateNameSuffix: () => "abcde", checkExpressionSyntax });
      const seen = new Set<string>();
      const visit = (name: string | undefined, scope = c.rootScope, holder?: object): void => {
        const resolved = holder
          ? c.resolveTemplate(holder, scope)
          : { template: c.getTemplate(name ?? "", scope), scope };
        const t = resolved.template;
        if (!t) throw new Error(`${label(m)}: ${name ?? "?"} not found`);
        const key = `${resolved.scope.id}/${t.name ?? JSON.stringify(holder)}`;
        if (seen.has(key)) return;
        seen.add(key);
        const calls = [...(t.steps ?? []).flat(), ...(t.dag?.tasks ?? [])];
        for (const call of calls) {
          references++;
          visit(undefined, resolved.scope, call);
        }
      };
      visit(c.entrypoint);
    }
    expect(references).toBeGreaterThan(300);
  });
});

function label(m: LoadedManifest): string {
  return `${relative(CORPUS, m.file)}#${m.docIndex}`;
}
