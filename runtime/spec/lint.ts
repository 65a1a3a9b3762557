import { formatPosition, SkiffError } from "../errors/index.js";
import { Library } from "./library.js";
import { SPEC_CODES } from "./codes.js";
import type { ExpressionSyntaxCheck } from "./expressions.js";
import { loadPaths, type LoadedManifest } from "./load.js";
import { validate } from "./validate.js";

export interface LintOptions {
  /** Reject duplicate keys (default true, as `argo lint --strict`). */
  strict?: boolean;
  /**
   * Checks `when`, `depends` and expr-lang expressions (pass `checkExpressionSyntax` from runtime/expr);
   * without it their syntax is not checked.
   */
  checkExpressionSyntax?: ExpressionSyntaxCheck;
  /** Reads the paths (default `loadPaths`; the command line's also converts `kind: Pipeline` files). */
  load?: typeof loadPaths;
  /**
   * Completes the library references resolve against (the command line adds the templates kept in the
   * store when the files reference one they do not hold). What it adds is not linted.
   */
  library?: (manifests: readonly LoadedManifest[], library: Library) => Promise<Library>;
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
  const loaded = await (options.load ?? loadPaths)(paths, options);
  const own = Library.from(loaded.manifests);
  const library = options.library ? await options.library(loaded.manifests, own) : own;
  const problems = [...loaded.problems];
  const kinds: Record<string, number> = {};
  problems.push(...duplicateDefinitions(loaded.manifests));
  for (const m of loaded.manifests) {
    kinds[m.object.kind] = (kinds[m.object.kind] ?? 0) + 1;
    problems.push(...validate(m, library, options));
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

/** Kinds that others look up by name: two definitions would make references ambiguous. */
const REFERENCED_KINDS = new Set(["WorkflowTemplate", "ClusterWorkflowTemplate", "ConfigMap", "Secret"]);

function duplicateDefinitions(manifests: readonly LoadedManifest[]): SkiffError[] {
  const first = new Map<string, LoadedManifest>();
  const problems: SkiffError[] = [];
  for (const m of manifests) {
    const name = m.object.metadata?.name;
    if (!REFERENCED_KINDS.has(m.object.kind) || typeof name !== "string") continue;
    const key = `${m.object.kind}/${name}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, m);
      continue;
    }
    const where = formatPosition(earlier.positions.get(["metadata", "name"]) ?? { file: earlier.file });
    problems.push(
      new SkiffError(
        SPEC_CODES["SKF-SPEC-023"],
        `${m.object.kind} ${name} is defined twice (first at ${where ?? earlier.file})`,
        {
          position: m.positions.get(["metadata", "name"]) ?? { file: m.file },
          path: "metadata.name",
          hint: "References resolve to the first definition. Rename or remove one of them.",
        },
      ),
    );
  }
  return problems;
}
