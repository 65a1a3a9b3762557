import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { StepRequest } from "../../interfaces/executor.js";
import type { Artifact } from "../../spec/types.js";
import { placeArtifact } from "../../artifacts/index.js";
import type { InlineStepOutcome } from "./http.js";

export interface DataStepOptions {
  /** Scratch folder for loading the source artifact. */
  scratchDir: string;
}

/**
 * Runs a `data` template (§4.13): `source.artifactPaths` lists the files inside an artifact, then each
 * `transformation` expression is evaluated with `data` bound to the previous value; the result is JSON.
 */
export async function runDataStep(
  request: StepRequest,
  options: DataStepOptions,
): Promise<InlineStepOutcome> {
  const d = request.template.data;
  if (!d) return { phase: "Error", message: "template has no data block" };
  let data: unknown = [];
  try {
    if (d.source?.artifactPaths)
      data = await listArtifactPaths(d.source.artifactPaths, request, options.scratchDir);
  } catch (e) {
    return { phase: "Error", message: `failed to list artifact paths: ${(e as Error).message}` };
  }
  for (const t of d.transformation ?? []) {
    try {
      data = request.evaluate(t.expression, { data });
    } catch (e) {
      return { phase: "Failed", message: `transformation '${t.expression}' failed: ${(e as Error).message}` };
    }
  }
  return { phase: "Succeeded", result: JSON.stringify(data ?? null) };
}

/**
 * The file paths an artifact holds, as Argo's `ListObjects` gives them: for a folder artifact each file's key
 * (`<key>/<relative path>`), for a single file its key.
 */
async function listArtifactPaths(
  source: Artifact,
  request: StepRequest,
  scratchDir: string,
): Promise<string[]> {
  const art = { ...source };
  if (!request.artifactRepository) throw new Error("no artifact repository is configured");
  const driver = request.artifactRepository.driverFor(art);
  const tmp = await mkdtemp(path.join(scratchDir, "data-"));
  try {
    const loaded = path.join(tmp, "loaded");
    await driver.load(art, loaded);
    const placed = path.join(tmp, "placed");
    await placeArtifact(loaded, placed);
    const key = keyOf(art) ?? art.name;
    const st = await lstat(placed);
    if (!st.isDirectory()) return [key];
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const n of (await readdir(dir)).sort()) {
        const p = path.join(dir, n);
        const r = rel ? `${rel}/${n}` : n;
        if ((await lstat(p)).isDirectory()) await walk(p, r);
        else out.push(`${key}/${r}`);
      }
    };
    await walk(placed, "");
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function keyOf(a: Artifact): string | undefined {
  for (const v of [a.local, a.s3, a.gcs, a.azure, a.oss, a.artifactory, a.hdfs]) {
    const k = (v as { key?: unknown; blob?: unknown; path?: unknown } | undefined)?.key;
    if (typeof k === "string") return k.replace(/\.(tgz|zip)$/, "");
  }
  return undefined;
}
