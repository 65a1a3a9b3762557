import { randomUUID } from "node:crypto";
import { cp, lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ART_CODES } from "../codes.js";

/** A key ending in `/` names a folder of objects, as S3 prefixes do. */
function isFolderKey(key: string | undefined): boolean {
  return key !== undefined && /[/\\]$/.test(key);
}

/**
 * Saves under a folder key as Argo's object-store drivers do: a folder's files become objects under the prefix
 * (beside whatever is there already), a single file lands under the prefix by its base name. Each file is
 * replaced atomically.
 */
async function saveIntoFolder(localPath: string, folder: string): Promise<void> {
  const st = await lstat(localPath);
  if (!st.isDirectory()) {
    await replaceFile(localPath, path.join(folder, path.basename(localPath)));
    return;
  }
  await mkdir(folder, { recursive: true });
  for (const entry of await readdir(localPath, { withFileTypes: true })) {
    const from = path.join(localPath, entry.name);
    const to = path.join(folder, entry.name);
    if (entry.isDirectory()) await saveIntoFolder(from, to);
    else await replaceFile(from, to);
  }
}

async function replaceFile(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const partial = `${to}.partial-${randomUUID()}`;
  try {
    await cp(from, partial, { verbatimSymlinks: true });
    await rename(partial, to);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Stores artifacts as files under a root folder: `{ local: { key } }` is the file (or folder, for `archive:
 * none` folders) at `<root>/<key>`; a key ending in `/` is a folder that saves add files to. Writes go to a temporary name and are renamed, so a reader never sees half
 * an artifact.
 */
export class LocalArtifactDriver implements ArtifactDriver {
  readonly name = "local";

  constructor(private readonly root: string) {}

  /** The file an artifact is stored at. Throws SKF-ART-006 for keys that leave the root. */
  pathOf(artifact: Artifact): string {
    const key = artifact.local?.key;
    if (key === undefined) {
      throw new SkiffError(ART_CODES["SKF-ART-005"], `artifact '${artifact.name}' has no local key`);
    }
    const norm = key.replace(/\\/g, "/");
    if (norm === "" || norm.startsWith("/") || norm.split("/").includes("..")) {
      throw new SkiffError(
        ART_CODES["SKF-ART-006"],
        `artifact key '${key}' is not a relative path inside the repository`,
      );
    }
    return path.join(this.root, norm);
  }

  async save(artifact: Artifact, localPath: string): Promise<void> {
    const dest = this.pathOf(artifact);
    if (isFolderKey(artifact.local?.key)) {
      await saveIntoFolder(localPath, dest);
      return;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    const partial = `${dest}.partial-${randomUUID()}`;
    try {
      await cp(localPath, partial, { recursive: true });
      try {
        // A file replaces a file atomically; a folder (or a change of kind) needs the old one gone first.
        await rename(partial, dest);
      } catch {
        await rm(dest, { recursive: true, force: true });
        await rename(partial, dest);
      }
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      throw e;
    }
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    const src = this.pathOf(artifact);
    if (!(await this.exists(artifact))) {
      throw new SkiffError(
        ART_CODES["SKF-ART-003"],
        `artifact '${artifact.name}' not found at key '${artifact.local?.key}'`,
      );
    }
    await mkdir(path.dirname(localPath), { recursive: true });
    await cp(src, localPath, { recursive: true });
  }

  async exists(artifact: Artifact): Promise<boolean> {
    try {
      await lstat(this.pathOf(artifact));
      return true;
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      return false;
    }
  }

  async delete(artifact: Artifact): Promise<void> {
    await rm(this.pathOf(artifact), { recursive: true, force: true });
  }
}
