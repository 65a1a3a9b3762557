import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { SkiffError } from "../../runtime/errors/index.js";
import { parseManifests, type LoadedManifest, type LoadResult } from "../../runtime/spec/load.js";
import { documentPositions } from "../../runtime/spec/positions.js";
import { PIPE_CODES } from "./codes.js";
import { convertPipeline, isPipelineDocument } from "./convert.js";

/** The default pipelines folder, relative to the checkout. */
export const DEFAULT_PIPELINES_DIR = ".skiff";

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
/** Files of the pipelines folder that are not pipelines. */
const NOT_PIPELINES = new Set(["config.yaml", "config.yml"]);

/** Everything found in the pipelines folder: Argo objects and converted pipelines, with their problems. */
export interface DiscoveredPipelines extends LoadResult {
  files: string[];
}

/**
 * Reads one file that may hold Argo objects and `kind: Pipeline` documents side by side. Pipelines are
 * converted to Workflows whose positions point into the pipeline's text, so errors and annotations land on
 * the lines the user wrote.
 */
export function parsePipelineFile(text: string, file: string): LoadResult {
  const result = parseManifests(text, file, { ignoreUnknownKinds: true });
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return result;
  // parseManifests notes pipelines as objects it does not read; they are read here.
  const pipelineLines: [number, number][] = [];
  docs.forEach((doc, docIndex) => {
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch {
      return;
    }
    if (!isPipelineDocument(value)) return;
    pipelineLines.push([lineCounter.linePos(doc.range[0]).line, lineCounter.linePos(doc.range[2]).line]);
    const positions = documentPositions(doc, lineCounter, file);
    try {
      const converted = convertPipeline(value, positions, file);
      result.manifests.push({
        object: converted.workflow,
        file,
        docIndex,
        positions: converted.positions,
      });
    } catch (e) {
      if (!(e instanceof SkiffError)) throw e;
      const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as SkiffError[]) : [e];
      result.problems.push(...problems);
    }
  });
  result.manifests.sort((a, b) => a.docIndex - b.docIndex);
  const notes = result.notes.filter((n) => {
    const line = n.position?.line;
    return line === undefined || !pipelineLines.some(([from, to]) => line >= from && line <= to);
  });
  return { ...result, notes };
}

/**
 * Finds the pipeline files under `path` (a folder, searched recursively, or one file) in a stable order and
 * reads them. `config.yaml` (Skiff's config) is skipped.
 */
export async function discoverPipelines(path: string): Promise<DiscoveredPipelines> {
  const out: DiscoveredPipelines = { manifests: [], problems: [], notes: [], files: [] };
  let files: string[];
  try {
    const st = await stat(path);
    files = st.isDirectory() ? await walk(path, path) : [path];
  } catch (e) {
    out.problems.push(
      new SkiffError(
        PIPE_CODES["SKF-PIPE-001"],
        `cannot read pipelines at ${path}: ${(e as Error).message}`,
        {
          position: { file: path },
        },
      ),
    );
    return out;
  }
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      out.problems.push(
        new SkiffError(PIPE_CODES["SKF-PIPE-001"], `cannot read ${file}: ${(e as Error).message}`, {
          position: { file },
        }),
      );
      continue;
    }
    out.files.push(file);
    const one = parsePipelineFile(text, file);
    out.manifests.push(...one.manifests);
    out.problems.push(...one.problems);
    out.notes.push(...one.notes);
  }
  return out;
}

async function walk(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      out.push(...(await walk(root, full)));
    } else if (
      e.isFile() &&
      EXTENSIONS.has(extname(e.name).toLowerCase()) &&
      !(dir === root && NOT_PIPELINES.has(basename(e.name)))
    ) {
      out.push(full);
    }
  }
  return out;
}

/** A path as shown to users: relative to the checkout when inside it. */
export function displayPath(file: string, root: string): string {
  const r = relative(root, file);
  return r.startsWith("..") ? file : r;
}

export type { LoadedManifest };
