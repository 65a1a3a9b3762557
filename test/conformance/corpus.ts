import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** `../shared/conformance/argo-examples` beside the repository (test data; never copied in). */
export const CORPUS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../shared/conformance/argo-examples",
);
export const CORPUS_PRESENT = existsSync(join(CORPUS, "EXPECTED.tsv"));
export const SKIP_MESSAGE = `skipped: the conformance corpus is not at ${CORPUS} (it comes with ../shared)`;

export interface ExpectedRow {
  file: string;
  /** Phases Argo may end in (two for the random ones). */
  phases: ("Succeeded" | "Failed" | "Error")[];
  note: string;
  noTest: string | undefined;
}

/**
 * The examples Argo's own test would run (no `no-test` label) plus the `expected-failure` ones, with the
 * phase each must reach, from EXPECTED.tsv.
 */
export function expectedRuns(): ExpectedRow[] {
  const text = readFileSync(join(CORPUS, "EXPECTED.tsv"), "utf8");
  const rows = new Map<string, ExpectedRow>();
  for (const line of text.split("\n").slice(1)) {
    if (!line.trim()) continue;
    const [file, phase, note] = line.split("\t") as [string, string, string];
    if (phase.includes("skipped")) continue;
    const phases: ExpectedRow["phases"] = [];
    if (/^Succeeded or Failed/.test(phase)) phases.push("Succeeded", "Failed");
    else if (phase.startsWith("Succeeded")) phases.push("Succeeded");
    else if (phase.startsWith("Failed")) phases.push("Failed");
    else if (phase.startsWith("Error")) phases.push("Error");
    const noTest = /no-test=([a-z-]+)/.exec(note ?? "")?.[1];
    rows.set(file, { file, phases, note: note ?? "", noTest });
  }
  return [...rows.values()];
}
