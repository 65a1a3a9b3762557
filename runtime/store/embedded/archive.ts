import { rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ArchiveStore, GcResult, WorkflowQuery } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { archiveId, compareArchived, finishedAtMs, matchesQuery, summarize } from "../common.js";
import type { EmbeddedContext } from "./context.js";
import { encodeSegment, listNames, readError, readJson, removeFile, writeError } from "./files.js";

/**
 * Completed runs of the embedded store: one file per run (`archive/<ns>/<name>/<uid>.json`), written by the
 * put that completes it (`workflows.ts`).
 */
export class EmbeddedArchive implements ArchiveStore {
  constructor(private readonly ctx: EmbeddedContext) {}

  async archiveList(query: WorkflowQuery = {}): Promise<Workflow[]> {
    this.ctx.assertOpen();
    const out: Workflow[] = [];
    try {
      for (const path of await this.archiveFiles(query.namespace)) {
        const doc = await readJson<Workflow>(path);
        if (doc && matchesQuery(summarize(doc), query)) out.push(doc);
      }
    } catch (e) {
      throw readError("the archive", e);
    }
    out.sort(compareArchived);
    return query.limit !== undefined && query.limit > 0 ? out.slice(0, query.limit) : out;
  }

  async archiveDelete(namespace: string, name: string, uid?: string): Promise<number> {
    this.ctx.assertOpen();
    const dir = this.ctx.archiveDir(namespace, name);
    try {
      const paths =
        uid !== undefined
          ? [this.ctx.archivePath(namespace, name, uid)]
          : (await listNames(dir)).filter((f) => f.endsWith(".json")).map((f) => join(dir, f));
      let deleted = 0;
      for (const path of paths) {
        if ((await readJson<Workflow>(path)) === undefined) continue;
        await removeFile(path, this.ctx.dirs);
        deleted++;
      }
      return deleted;
    } catch (e) {
      throw writeError(`archived workflow ${namespace}/${name}`, e);
    }
  }

  async archiveGet(namespace: string, name: string, uid?: string): Promise<Workflow | undefined> {
    this.ctx.assertOpen();
    try {
      if (uid !== undefined) return await readJson<Workflow>(this.ctx.archivePath(namespace, name, uid));
      const dir = this.ctx.archiveDir(namespace, name);
      const runs: Workflow[] = [];
      for (const f of await listNames(dir)) {
        const doc = await readJson<Workflow>(join(dir, f));
        if (doc) runs.push(doc);
      }
      return runs.sort(compareArchived)[0];
    } catch (e) {
      throw readError(`archived workflow ${namespace}/${name}`, e);
    }
  }

  /** For `gc`: deletes the runs finished at or before `cutoff`, and the folders of names left without runs. */
  async deleteFinishedBefore(cutoff: number): Promise<GcResult["archiveDeleted"]> {
    const deleted: GcResult["archiveDeleted"] = [];
    const emptied = new Set<string>();
    for (const path of await this.archiveFiles()) {
      const doc = await readJson<Workflow>(path);
      if (!doc) continue;
      const finished = finishedAtMs(doc);
      if (finished === undefined || finished > cutoff) continue;
      await removeFile(path, this.ctx.dirs);
      const { namespace, name } = summarize(doc);
      deleted.push({ namespace, name, uid: archiveId(doc) });
      emptied.add(dirname(path));
    }
    for (const dir of emptied) {
      if ((await listNames(dir)).length > 0) continue;
      await rmdir(dir).catch(() => undefined);
    }
    return deleted;
  }

  private async archiveFiles(namespace?: string): Promise<string[]> {
    const root = this.ctx.archiveRoot();
    const namespaces = namespace !== undefined ? [encodeSegment(namespace)] : await listNames(root);
    const out: string[] = [];
    for (const ns of namespaces) {
      for (const name of await listNames(join(root, ns))) {
        for (const f of await listNames(join(root, ns, name))) {
          if (f.endsWith(".json")) out.push(join(root, ns, name, f));
        }
      }
    }
    return out;
  }
}
