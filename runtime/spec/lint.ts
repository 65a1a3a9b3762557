import type { SkiffError } from "../errors/index.js";
import { Library } from "./library.js";
import { loadPaths } from "./load.js";
import { validate } from "./validate.js";

export interface LintOptions {
  /** Reject duplicate keys (default true, as `argo lint --strict`). */
  strict?: boolean;
}

export interface LintResult {
  /** Files read. */
  files: number;
  /** Objects read (every kind Skiff loads, ConfigMaps and Secrets included). */
  objects: number;
  problems: SkiffError[];
  /** Things skipped on purpose (other kinds in a directory, duplicate keys when not strict). */
  notes: SkiffError[];
  /** How many objects of each kind were read. */
  kinds: Record<string, number>;
}

/**
 * Argo's lint over files and directories: every problem of every manifest, references resolved against
 * everything passed together.
 */
export async function lintPaths(paths: readonly string[], options: LintOptions = {}): Promise<LintResult> {
  const loaded = await loadPaths(paths, options);
  const library = Library.from(loaded.manifests);
  const problems = [...loaded.problems];
  const kinds: Record<string, number> = {};
  for (const m of loaded.manifests) {
    kinds[m.object.kind] = (kinds[m.object.kind] ?? 0) + 1;
    problems.push(...validate(m, library));
  }
  // A template shared through templateRef is checked with each workflow that uses it: report it once.
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.code}|${p.message}|${p.position?.file ?? ""}|${p.position?.line ?? ""}|${p.position?.column ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  problems.length = 0;
  problems.push(...unique);
  // Files in load order, then top to bottom inside each file.
  const order = new Map(loaded.files.map((f, i) => [f, i]));
  const rank = (p: SkiffError): [number, number, number] => [
    order.get(p.position?.file ?? "") ?? -1,
    p.position?.line ?? 0,
    p.position?.column ?? 0,
  ];
  problems.sort((a, b) => {
    const [fa, la, ca] = rank(a);
    const [fb, lb, cb] = rank(b);
    return fa - fb || la - lb || ca - cb;
  });
  return {
    files: loaded.files.length,
    objects: loaded.manifests.length,
    problems,
    notes: loaded.notes,
    kinds,
  };
}
