import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ART_CODES } from "../codes.js";
import {
  type Body,
  checkDeclaredSize,
  discardBody,
  forEachLimit,
  isDirectory,
  listFiles,
  partialPath,
  safeJoin,
  writeBody,
} from "./files.js";

/** An object's content as a store returns it. */
export interface StoredObject {
  body: Body;
  /** Content length when the store says it up front. */
  size?: number;
}

/**
 * The few operations of a key/value object store (S3, GCS, Azure Blob, OSS) the drivers need; folder
 * handling, size bounds and temporary files are shared on top of it.
 */
export interface ObjectStore {
  /** Uploads a file so the object appears whole or not at all. */
  put(key: string, file: string, size: number): Promise<void>;
  /** The object's content, or undefined when no object has that key. */
  get(key: string): Promise<StoredObject | undefined>;
  has(key: string): Promise<boolean>;
  /** Every key starting with `prefix`, over all pages. */
  list(prefix: string): Promise<string[]>;
  /** Removes an object; no error when it is absent. */
  remove(key: string): Promise<void>;
}

/** Where an artifact lives in an object store; `where` names it in messages (`s3://bucket/key`). */
export interface ObjectLocation {
  store: ObjectStore;
  key: string;
  where: string;
}

/** Uploads at once per folder: enough to hide latency, few enough not to trip rate limits. */
const FOLDER_CONCURRENCY = 4;

/**
 * An `ArtifactDriver` over an object store. A file is one object at `key`. A folder (a local folder on save, a
 * key ending in `/`, or a key with objects below `key/` on load) is one object per file under `key/`, as Argo
 * stores `archive: none` folders. As in Argo, saving a folder adds and replaces objects under the prefix and
 * leaves others there alone.
 */
export class ObjectStoreDriver implements ArtifactDriver {
  constructor(
    readonly name: string,
    private readonly locate: (artifact: Artifact) => ObjectLocation,
    private readonly maxBytes: number,
  ) {}

  async save(artifact: Artifact, localPath: string): Promise<void> {
    const loc = this.locate(artifact);
    if (await isDirectory(localPath)) {
      await this.saveFolder(loc, localPath);
      return;
    }
    const info = await stat(localPath);
    const key = loc.key.endsWith("/") ? loc.key + path.basename(localPath) : loc.key;
    await loc.store.put(key, localPath, info.size);
  }

  private async saveFolder(loc: ObjectLocation, dir: string): Promise<void> {
    const prefix = folderPrefix(loc.key);
    const files = await listFiles(dir);
    await forEachLimit(files, FOLDER_CONCURRENCY, async (rel) => {
      const file = path.join(dir, ...rel.split("/"));
      await loc.store.put(prefix + rel, file, (await stat(file)).size);
    });
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    const loc = this.locate(artifact);
    if (!loc.key.endsWith("/")) {
      const obj = await loc.store.get(loc.key);
      if (obj) {
        await checkObjectSize(obj, this.maxBytes, loc.where);
        await writeBody(obj.body, localPath, this.maxBytes, loc.where);
        return;
      }
    }
    const prefix = folderPrefix(loc.key);
    const keys = await loc.store.list(prefix);
    if (keys.length === 0) throw notFound(artifact, loc.where);
    await this.loadFolder(loc, prefix, keys, localPath);
  }

  private async loadFolder(
    loc: ObjectLocation,
    prefix: string,
    keys: string[],
    localPath: string,
  ): Promise<void> {
    const partial = partialPath(localPath);
    let budget = this.maxBytes;
    try {
      await mkdir(partial, { recursive: true });
      for (const key of keys) {
        const rel = key.slice(prefix.length);
        // Consoles create empty "folder" objects ending in `/`; they carry no file.
        if (rel === "" || rel.endsWith("/")) {
          if (rel !== "") await mkdir(safeJoin(partial, rel, loc.where), { recursive: true });
          continue;
        }
        const dest = safeJoin(partial, rel, loc.where);
        const obj = await loc.store.get(key);
        if (!obj) continue; // deleted while listing
        await checkObjectSize(obj, budget, loc.where);
        budget -= await writeBody(obj.body, dest, budget, loc.where);
      }
      await mkdir(path.dirname(localPath), { recursive: true });
      await rm(localPath, { recursive: true, force: true });
      await rename(partial, localPath);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      throw e;
    }
  }

  async exists(artifact: Artifact): Promise<boolean> {
    const loc = this.locate(artifact);
    if (!loc.key.endsWith("/") && (await loc.store.has(loc.key))) return true;
    return (await loc.store.list(folderPrefix(loc.key))).length > 0;
  }

  async delete(artifact: Artifact): Promise<void> {
    const loc = this.locate(artifact);
    if (!loc.key.endsWith("/")) await loc.store.remove(loc.key);
    const below = await loc.store.list(folderPrefix(loc.key));
    await forEachLimit(below, FOLDER_CONCURRENCY, (k) => loc.store.remove(k));
  }
}

/** Refuses an object whose declared size is over the bound, releasing its unread body. */
async function checkObjectSize(obj: StoredObject, maxBytes: number, where: string): Promise<void> {
  try {
    checkDeclaredSize(obj.size, maxBytes, where);
  } catch (e) {
    await discardBody(obj.body);
    throw e;
  }
}

function folderPrefix(key: string): string {
  return key.replace(/\/+$/, "") + "/";
}

/** The error every driver gives for a missing artifact, so optional inputs are recognised alike. */
export function notFound(artifact: Artifact, where: string): SkiffError {
  return new SkiffError(ART_CODES["SKF-ART-003"], `artifact '${artifact.name}' not found at ${where}`);
}
