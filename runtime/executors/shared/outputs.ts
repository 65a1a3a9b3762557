import { lstat, mkdtemp, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { ArtifactRepository } from "../../interfaces/artifacts.js";
import type { Artifact, Parameter, Template } from "../../spec/types.js";
import {
  archiveFileName,
  archiveFormatOf,
  hasLocation,
  keyOnlyKey,
  packTgz,
  packZip,
} from "../../artifacts/index.js";
import { trimOneNewline } from "./result.js";

/** Where a step's files are and where its artifacts go. */
export interface OutputContext {
  /** The host path holding what the step saw at a template path. */
  hostPath(p: string): string;
  repository?: ArtifactRepository;
  /** Argo's `{{workflow.name}}/{{pod.name}}`. */
  keyPrefix: string;
  /** A scratch folder for archives. */
  scratchDir: string;
}

/**
 * Thrown when outputs cannot be collected. The step then ends in Error (Argo's wait container failing), unless
 * main already failed.
 */
export class OutputCollectionError extends Error {
  override readonly name = "OutputCollectionError";
}

/** Reads `valueFrom.path` parameters (§4.10): one trailing newline trimmed; missing file -> `default` or error. */
export async function collectOutputParameters(template: Template, ctx: OutputContext): Promise<Parameter[]> {
  const out: Parameter[] = [];
  for (const p of template.outputs?.parameters ?? []) {
    const file = p.valueFrom?.path;
    if (file === undefined) continue;
    let value: string;
    try {
      value = trimOneNewline(await readFile(ctx.hostPath(file), "utf8"));
    } catch (e) {
      if (p.valueFrom?.default !== undefined) value = p.valueFrom.default;
      else
        throw new OutputCollectionError(
          `failed to get output parameter '${p.name}': ${goFileError(e, file)}`,
        );
    }
    out.push({ ...p, value });
  }
  return out;
}

/**
 * Packs and saves output artifacts (§4.11) through the repository and returns them with their locations.
 * Optional artifacts whose path is missing are left out.
 */
export async function saveOutputArtifacts(template: Template, ctx: OutputContext): Promise<Artifact[]> {
  const out: Artifact[] = [];
  for (const a of template.outputs?.artifacts ?? []) {
    if (a.path === undefined) continue;
    const src = ctx.hostPath(a.path);
    try {
      await lstat(src);
    } catch (e) {
      if (a.optional) continue;
      throw new OutputCollectionError(
        `failed to save output artifact '${a.name}': ${goFileError(e, a.path)}`,
      );
    }
    if (!ctx.repository) {
      throw new OutputCollectionError(
        `failed to save output artifact '${a.name}': no artifact repository is configured`,
      );
    }
    const keyOnly = keyOnlyKey(a);
    const located =
      hasLocation(a) && keyOnly === undefined
        ? a
        : ctx.repository.locate(a, keyOnly ?? `${ctx.keyPrefix}/${archiveFileName(a, a.path)}`);
    const format = archiveFormatOf(a);
    const tmp = await mkdtemp(path.join(ctx.scratchDir, "out-"));
    try {
      let packed = src;
      if (format === "tgz") {
        packed = path.join(tmp, `${a.name}.tgz`);
        await packTgz(src, packed, a.archive?.tar?.compressionLevel);
      } else if (format === "zip") {
        packed = path.join(tmp, `${a.name}.zip`);
        await packZip(src, packed);
      }
      await ctx.repository.driverFor(located).save(located, packed);
    } catch (e) {
      throw new OutputCollectionError(`failed to save output artifact '${a.name}': ${(e as Error).message}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    out.push(located);
  }
  return out;
}

/** Go's wording for file errors, which Argo's messages carry (`open /tmp/x: no such file or directory`). */
export function goFileError(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return `open ${file}: no such file or directory`;
  if (code === "EISDIR") return `read ${file}: is a directory`;
  if (code === "EACCES") return `open ${file}: permission denied`;
  return `${file}: ${(e as Error).message}`;
}
