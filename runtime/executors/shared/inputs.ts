import { mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { ArtifactDriver, ArtifactRepository } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { createRawDriver, hasLocation, placeArtifact } from "../../artifacts/index.js";

export interface InputContext {
  hostPath(p: string): string;
  repository?: ArtifactRepository;
  scratchDir: string;
  /** Bound on what one artifact may unpack to. */
  maxBytes?: number;
}

/** Thrown when an input artifact cannot be put in place; the step ends in Error (Argo's init container). */
export class InputLoadError extends Error {
  override readonly name = "InputLoadError";
}

const raw = createRawDriver();

function driverOf(a: Artifact, repository: ArtifactRepository | undefined): ArtifactDriver {
  if (a.raw !== undefined && !repository) return raw;
  if (!repository) throw new InputLoadError(`no artifact repository is configured to load '${a.name}'`);
  return repository.driverFor(a);
}

/**
 * Loads every input artifact to its `path` (§4.11): archives unpacked, `raw` written as is, `mode` applied;
 * optional artifacts that have no location or are not found are skipped.
 */
export async function loadInputArtifacts(artifacts: Artifact[], ctx: InputContext): Promise<void> {
  for (const a of artifacts) {
    if (a.path === undefined) continue;
    if (!hasLocation(a)) {
      if (a.optional) continue;
      throw new InputLoadError(`inputs.artifacts.${a.name} was not supplied`);
    }
    const tmp = await mkdtemp(path.join(ctx.scratchDir, "in-"));
    try {
      const driver = driverOf(a, ctx.repository);
      if (a.optional && !(await driver.exists(a))) continue;
      const loaded = path.join(tmp, "artifact");
      await driver.load(a, loaded);
      const opts: Parameters<typeof placeArtifact>[2] = {};
      if (a.mode !== undefined) opts.mode = a.mode;
      if (a.recurseMode !== undefined) opts.recurseMode = a.recurseMode;
      if (ctx.maxBytes !== undefined) opts.maxBytes = ctx.maxBytes;
      if (a.subPath) {
        // Argo appends subPath to the key; loading the whole artifact and picking the part works for archived
        // artifacts too.
        const whole = path.join(tmp, "whole");
        await placeArtifact(loaded, whole, ctx.maxBytes !== undefined ? { maxBytes: ctx.maxBytes } : {});
        const part = path.resolve(whole, a.subPath.replace(/^\/+/, ""));
        if (part !== whole && !part.startsWith(whole + path.sep)) {
          throw new InputLoadError(`artifact '${a.name}': subPath '${a.subPath}' leaves the artifact`);
        }
        await placeArtifact(part, ctx.hostPath(a.path), opts);
      } else {
        await placeArtifact(loaded, ctx.hostPath(a.path), opts);
      }
    } catch (e) {
      if (e instanceof InputLoadError) throw e;
      throw new InputLoadError(`failed to load artifact '${a.name}': ${(e as Error).message}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
