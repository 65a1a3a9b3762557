import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startWorkflow, SyncManager } from "../../../runtime/controller/index.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { FakeClock } from "../../../runtime/testing/fake-clock.js";
import { FakeExecutor } from "../../../runtime/testing/fake-executor.js";
import { START } from "./helpers.js";

const DIR = join(process.cwd(), "../shared/conformance/argo-examples");

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(f)) out.push(p);
  }
  return out;
}

/** Status invariants every finished workflow must hold, whatever its steps did. */
function checkInvariants(wf: Workflow): string[] {
  const problems: string[] = [];
  const nodes = wf.status?.nodes ?? {};
  const name = wf.metadata.name ?? "";
  if (!["Succeeded", "Failed", "Error"].includes(wf.status?.phase ?? ""))
    problems.push(`phase ${wf.status?.phase}`);
  for (const n of Object.values(nodes)) {
    if (n.id !== (n.name === name ? name : n.id)) problems.push(`root id ${n.id}`);
    for (const c of n.children ?? []) if (!nodes[c]) problems.push(`${n.name}: missing child ${c}`);
    if (n.boundaryID && !nodes[n.boundaryID]) problems.push(`${n.name}: missing boundary ${n.boundaryID}`);
    if (!["Succeeded", "Failed", "Error", "Skipped", "Omitted"].includes(n.phase)) {
      problems.push(`${n.name}: not finished (${n.phase})`);
    }
    if (!n.startedAt) problems.push(`${n.name}: no startedAt`);
    if (!n.finishedAt) problems.push(`${n.name}: no finishedAt`);
  }
  if (!/^\d+\/\d+$/.test(wf.status?.progress ?? "")) problems.push(`progress ${wf.status?.progress}`);
  return problems;
}

describe.skipIf(!existsSync(DIR))("Argo example corpus", () => {
  const files = existsSync(DIR) ? yamlFiles(DIR) : [];
  it("runs every example Workflow to a final phase with a consistent status (fake executor)", async () => {
    let ran = 0;
    const failures: string[] = [];
    const expected = new Map<string, string>();
    for (const line of readFileSync(join(DIR, "EXPECTED.tsv"), "utf8").split("\n").slice(1)) {
      const [path, phase] = line.split("\t");
      if (path && phase) expected.set(path, phase);
    }
    const agree: string[] = [];
    const differ: string[] = [];
    for (const file of files) {
      const loaded = parseManifests(readFileSync(file, "utf8"), file);
      const library = Library.from(loaded.manifests);
      for (const m of loaded.manifests) {
        if (m.object.kind !== "Workflow") continue;
        let compiled;
        try {
          compiled = compile(m, library, { generateNameSuffix: () => "abcde" });
        } catch {
          continue; // The spec's own corpus test covers compile problems.
        }
        const clock = new FakeClock({ start: START, autoAdvance: true });
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
        const run = startWorkflow(compiled, { executor: exec, clock, synchronization: new SyncManager() });
        let final: Workflow | undefined;
        for (let round = 0; round < 20 && !final; round++) {
          final = await Promise.race([
            run.done,
            new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
          ]);
          if (final) break;
          try {
            run.resume();
          } catch {
            run.stop("Stop");
          }
        }
        if (!final) {
          run.stop("Terminate");
          failures.push(`${file}: did not finish`);
          continue;
        }
        ran++;
        for (const p of checkInvariants(final)) failures.push(`${file}: ${p}`);
        const want = expected.get(file.slice(DIR.length + 1));
        if (want === "Succeeded" || want === "Failed" || want === "Error") {
          (want === final.status?.phase ? agree : differ).push(
            `${file.slice(DIR.length + 1)}: want ${want}, got ${final.status?.phase} ${final.status?.message ?? ""}`,
          );
        }
      }
    }
    // Outcomes depend on what the steps print, which the fake executor only approximates: reported, not asserted.
    console.log(
      `corpus: ${agree.length} outcomes as Argo's e2e expects, ${differ.length} differ\n${differ.join("\n")}`,
    );
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(100);
  }, 120_000);
});
