import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import {
  Composer,
  isScalar,
  LineCounter,
  Parser,
  visit,
  YAMLParseError,
  type Document,
  type YAMLError,
} from "yaml";
import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";
import { measureTokens, SPEC_LIMITS } from "./limits.js";
import { documentPositions, type PositionIndex } from "./positions.js";
import type { Manifest, ManifestKind } from "./types.js";

/** One Kubernetes object read from a file, with the positions of its fields. */
export interface LoadedManifest {
  object: Manifest;
  file: string;
  /** 0-based index of the document inside a multi-document file. */
  docIndex: number;
  positions: PositionIndex;
}

export interface LoadResult {
  manifests: LoadedManifest[];
  /** Everything that prevented an object from loading. */
  problems: SkiffError[];
  /** Objects skipped on purpose (other kinds found while walking a directory), with where they are. */
  notes: SkiffError[];
}

export interface ParseOptions {
  /**
   * Skip objects of kinds Skiff does not read, noting them instead of reporting problems. Used for files found
   * while walking a directory, which may hold any Kubernetes object.
   */
  ignoreUnknownKinds?: boolean;
  /**
   * Reject duplicate keys (default false). By default the last value wins, as with the YAML decoding Argo
   * uses, and each duplicate is noted: Argo's own examples hold one, and `skiff lint` must accept what Argo
   * accepts. `skiff lint --strict` turns duplicates into problems.
   */
  strict?: boolean;
}

const ARGO_API = "argoproj.io/v1alpha1";
const KINDS: Record<ManifestKind, string> = {
  Workflow: ARGO_API,
  WorkflowTemplate: ARGO_API,
  ClusterWorkflowTemplate: ARGO_API,
  CronWorkflow: ARGO_API,
  ConfigMap: "v1",
  Secret: "v1",
};

/** Parses one YAML (or JSON) text, single or multi-document. Unknown kinds/apiVersions are problems, not crashes. */
export function parseManifests(text: string, file: string, options: ParseOptions = {}): LoadResult {
  const result: LoadResult = { manifests: [], problems: [], notes: [] };
  const size = Buffer.byteLength(text, "utf8");
  if (size > SPEC_LIMITS.maxFileBytes) {
    result.problems.push(
      new SkiffError(
        SPEC_CODES["SKF-SPEC-080"],
        `file is ${size} bytes, more than the limit of ${SPEC_LIMITS.maxFileBytes}`,
        { position: { file } },
      ),
    );
    return result;
  }
  let list: Document.Parsed[];
  let lineCounter: LineCounter;
  try {
    ({ docs: list, lineCounter } = parseLeniently(text, file));
  } catch (e) {
    if (e instanceof SkiffError) {
      result.problems.push(e);
      return result;
    }
    result.problems.push(new SkiffError(SPEC_CODES["SKF-SPEC-001"], String(e), { position: { file } }));
    return result;
  }
  list.forEach((doc, docIndex) => {
    const errors =
      options.strict === true ? doc.errors : doc.errors.filter((e) => e.code !== "DUPLICATE_KEY");
    if (errors.length > 0) {
      // After the first syntax error the parser's later complaints are mostly echoes of it; duplicate keys
      // are independent of each other and all reported.
      const syntax = errors.filter((e) => e.code !== "DUPLICATE_KEY");
      const first =
        syntax.find((e) => e.code === "TAB_AS_INDENT") ?? [...syntax].sort((a, b) => a.pos[0] - b.pos[0])[0];
      for (const err of errors) {
        if (err.code === "DUPLICATE_KEY" || err === first)
          result.problems.push(yamlProblem(err, file, lineCounter));
      }
      return;
    }
    for (const err of doc.errors)
      if (err.code === "DUPLICATE_KEY") result.notes.push(yamlProblem(err, file, lineCounter));
    const positions = documentPositions(doc, lineCounter, file);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      result.problems.push(
        new SkiffError(
          SPEC_CODES["SKF-SPEC-001"],
          `cannot read document ${docIndex + 1}: ${(e as Error).message}`,
          {
            position: positions.get([]) ?? { file },
          },
        ),
      );
      return;
    }
    if (value === null || value === undefined) return;
    const where = positions.get([]) ?? { file };
    if (typeof value !== "object" || Array.isArray(value)) {
      const msg = `document ${docIndex + 1} is a ${Array.isArray(value) ? "list" : typeof value}, not a Kubernetes object`;
      if (options.ignoreUnknownKinds)
        result.notes.push(new SkiffError(SPEC_CODES["SKF-SPEC-008"], msg, { position: where }));
      else result.problems.push(new SkiffError(SPEC_CODES["SKF-SPEC-004"], msg, { position: where }));
      return;
    }
    const obj = value as Record<string, unknown>;
    const kind = obj.kind;
    const apiVersion = obj.apiVersion;
    if (typeof kind !== "string" || typeof apiVersion !== "string") {
      const msg = `document ${docIndex + 1} has no ${typeof kind !== "string" ? "kind" : "apiVersion"}`;
      if (options.ignoreUnknownKinds)
        result.notes.push(new SkiffError(SPEC_CODES["SKF-SPEC-008"], msg, { position: where }));
      else
        result.problems.push(
          new SkiffError(SPEC_CODES["SKF-SPEC-004"], msg, {
            position: positions.get([typeof kind !== "string" ? "kind" : "apiVersion"]) ?? where,
          }),
        );
      return;
    }
    const expectedApi = Object.hasOwn(KINDS, kind) ? KINDS[kind as ManifestKind] : undefined;
    if (expectedApi === undefined) {
      const msg = `kind ${kind} (${apiVersion}) is not read by Skiff`;
      const position = positions.get(["kind"]) ?? where;
      if (options.ignoreUnknownKinds)
        result.notes.push(new SkiffError(SPEC_CODES["SKF-SPEC-008"], msg, { position }));
      else result.problems.push(new SkiffError(SPEC_CODES["SKF-SPEC-005"], msg, { position }));
      return;
    }
    if (apiVersion !== expectedApi) {
      result.problems.push(
        new SkiffError(
          SPEC_CODES["SKF-SPEC-006"],
          `${kind} must have apiVersion ${expectedApi}, not ${apiVersion}`,
          {
            position: positions.get(["apiVersion"]) ?? where,
          },
        ),
      );
      return;
    }
    result.manifests.push({ object: obj as unknown as Manifest, file, docIndex, positions });
  });
  return result;
}

/**
 * `parseAllDocuments`, with the syntax tree measured against the nesting and size limits before it is
 * composed: composing recurses once per nesting level, and a thousand levels exhaust the stack (or the
 * regular expression compiler's memory, which kills the process).
 */
function parseYaml(text: string, lineCounter: LineCounter, file: string): Document.Parsed[] {
  let tokens;
  try {
    tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  } catch (e) {
    // The parser closes nested block collections recursively: thousands of levels exhaust the stack there.
    if (!(e instanceof RangeError)) throw e;
    const line = deepestLine(text);
    throw new SkiffError(
      SPEC_CODES["SKF-SPEC-081"],
      `mappings and lists nest more than ${SPEC_LIMITS.maxNestingDepth} levels deep`,
      { position: line === undefined ? { file } : { file, line, column: 1 } },
    );
  }
  const excess = measureTokens(tokens);
  if (excess) {
    const { line, col } = lineCounter.linePos(excess.offset);
    throw excess.kind === "depth"
      ? new SkiffError(
          SPEC_CODES["SKF-SPEC-081"],
          `mappings and lists nest more than ${SPEC_LIMITS.maxNestingDepth} levels deep`,
          { position: { file, line, column: col } },
        )
      : new SkiffError(
          SPEC_CODES["SKF-SPEC-082"],
          `the file holds more than ${SPEC_LIMITS.maxNodes} YAML nodes`,
          { position: { file, line, column: col } },
        );
  }
  // The composer's own duplicate-key check compares each key with every earlier one of its mapping, which
  // is quadratic in a mapping's size (50,000 labels took half a minute): keys are checked by set here instead.
  const composer = new Composer({ uniqueKeys: false, prettyErrors: false, strict: true });
  const docs = Array.from(composer.compose(tokens));
  for (const doc of docs) doc.errors.push(...duplicateKeys(doc));
  return docs;
}

/** The 1-based line that starts with the most block list or mapping indicators and indentation. */
function deepestLine(text: string): number | undefined {
  let best: number | undefined;
  let most = 0;
  text.split("\n").forEach((line, i) => {
    const depth = /^[\s?:-]*/.exec(line)?.[0].length ?? 0;
    if (depth > most) {
      most = depth;
      best = i + 1;
    }
  });
  return best;
}

/** What the `yaml` package's `uniqueKeys` reports: every key equal to an earlier scalar key of its mapping. */
function duplicateKeys(doc: Document.Parsed): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          const start = pair.key.range?.[0] ?? 0;
          errors.push(new YAMLParseError([start, start + 1], "DUPLICATE_KEY", "Map keys must be unique"));
        } else seen.add(pair.key.value);
      }
    },
  });
  return errors;
}

const FLOW_INDENT = /^Flow (sequence|mapping) in block collection must be sufficiently indented/;

/**
 * Parses like go-yaml (what Kubernetes and Argo use), which accepts a multi-line quoted string inside a flow
 * collection whose continuation lines are not indented past the parent key (Argo's own examples do this:
 * `args: ["` ... `"]`). The `yaml` package rejects it. Leading spaces of continuation lines inside a flow
 * scalar are folded away, so indenting those lines changes no value; line numbers stay the same.
 */
function parseLeniently(text: string, file: string): { docs: Document.Parsed[]; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const first = { docs: parseYaml(text, lineCounter, file), lineCounter };
  if (!first.docs.some((d) => d.errors.some((e) => e.code === "BAD_INDENT" && FLOW_INDENT.test(e.message))))
    return first;
  const lines = text.split("\n");
  for (let attempt = 0; attempt < 200; attempt++) {
    const counter = new LineCounter();
    const docs = parseYaml(lines.join("\n"), counter, file);
    const bad = docs
      .flatMap((d) => d.errors)
      .find((e) => e.code === "BAD_INDENT" && FLOW_INDENT.test(e.message));
    if (!bad) {
      if (docs.some((d) => d.errors.length > 0)) break;
      return { docs, lineCounter: counter };
    }
    const lineNo = counter.linePos(bad.pos[0]).line - 1;
    const line = lines[lineNo];
    if (line === undefined) break;
    const indent = line.length - line.trimStart().length;
    let parent = -1;
    for (let i = lineNo - 1; i >= 0; i--) {
      const l = lines[i] ?? "";
      const t = l.trimStart();
      if (t === "" || t.startsWith("#")) continue;
      const li = l.length - t.length;
      if (li <= indent) {
        parent = li;
        break;
      }
    }
    if (parent < 0) break;
    lines[lineNo] = " ".repeat(parent + 1) + line.trimStart();
  }
  return first;
}

function yamlProblem(err: YAMLError, file: string, lineCounter: LineCounter): SkiffError {
  const { line, col } = lineCounter.linePos(err.pos[0]);
  const code =
    err.code === "DUPLICATE_KEY"
      ? SPEC_CODES["SKF-SPEC-002"]
      : err.code === "TAB_AS_INDENT"
        ? SPEC_CODES["SKF-SPEC-003"]
        : SPEC_CODES["SKF-SPEC-001"];
  const message = err.message.split("\n")[0] ?? err.message;
  return new SkiffError(code, message.replace(/ at line \d+, column \d+:?$/, ""), {
    position: { file, line, column: col },
  });
}

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Loads files and directories (recursively: *.yaml, *.yml, *.json), in a stable order. */
export async function loadPaths(
  paths: readonly string[],
  options: Pick<ParseOptions, "strict"> = {},
): Promise<LoadResult & { files: string[] }> {
  const result: LoadResult & { files: string[] } = { manifests: [], problems: [], notes: [], files: [] };
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      result.problems.push(
        new SkiffError(SPEC_CODES["SKF-SPEC-007"], `cannot read ${p}: ${(e as Error).message}`, {
          position: { file: p },
        }),
      );
      continue;
    }
    const files: { file: string; fromDirectory: boolean }[] = st.isDirectory()
      ? (await walk(p)).map((file) => ({ file, fromDirectory: true }))
      : [{ file: p, fromDirectory: false }];
    for (const { file, fromDirectory } of files) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (e) {
        result.problems.push(
          new SkiffError(SPEC_CODES["SKF-SPEC-007"], `cannot read ${file}: ${(e as Error).message}`, {
            position: { file },
          }),
        );
        continue;
      }
      result.files.push(file);
      const one = parseManifests(text, file, { ...options, ignoreUnknownKinds: fromDirectory });
      result.manifests.push(...one.manifests);
      result.problems.push(...one.problems);
      result.notes.push(...one.notes);
    }
  }
  return result;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      out.push(...(await walk(full)));
    } else if (e.isFile() && EXTENSIONS.has(extname(e.name).toLowerCase())) {
      out.push(full);
    }
  }
  return out;
}
