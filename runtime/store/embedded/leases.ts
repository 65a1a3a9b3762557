import { join } from "node:path";
import type { Lease, LeaseStore } from "../../interfaces/store.js";
import { acquiredLease, checkLeaseArgs, renewedLease } from "../leases.js";
import type { EmbeddedContext } from "./context.js";
import {
  listNames,
  readError,
  readJson,
  removeFile,
  withFileLock,
  writeError,
  writeFileAtomic,
} from "./files.js";

/**
 * Leases of the embedded store: one file per workflow (`leases/<ns>/<name>.json`), read and replaced under the
 * workflow's lease lock file, so that one of several processes wins.
 */
export class EmbeddedLeases implements LeaseStore {
  constructor(private readonly ctx: EmbeddedContext) {}

  acquireLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.changeLease(namespace, name, owner, ttlMs, now, acquiredLease);
  }

  renewLease(namespace: string, name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return this.changeLease(namespace, name, owner, ttlMs, now, renewedLease);
  }

  private async changeLease(
    namespace: string,
    name: string,
    owner: string,
    ttlMs: number,
    now: number,
    decide: (current: Lease | undefined, owner: string, ttlMs: number, now: number) => Lease | undefined,
  ): Promise<boolean> {
    this.ctx.assertOpen();
    checkLeaseArgs(owner, ttlMs, now);
    const path = this.ctx.leasePath(namespace, name);
    return this.ctx.track(
      withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
        const next = decide(await readJson<Lease>(path), owner, ttlMs, now);
        if (!next) return false;
        await writeFileAtomic(path, JSON.stringify(next), this.ctx.writeOptions);
        return true;
      }).catch((e: unknown) => {
        throw writeError(`lease of workflow ${namespace}/${name}`, e);
      }),
    );
  }

  async releaseLease(namespace: string, name: string, owner: string): Promise<void> {
    this.ctx.assertOpen();
    const path = this.ctx.leasePath(namespace, name);
    await this.ctx.track(
      withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
        const current = await readJson<Lease>(path);
        if (current?.owner === owner) await removeFile(path, this.ctx.dirs);
      }).catch((e: unknown) => {
        throw writeError(`lease of workflow ${namespace}/${name}`, e);
      }),
    );
  }

  async getLease(namespace: string, name: string): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    return readJson<Lease>(this.ctx.leasePath(namespace, name)).catch((e: unknown) => {
      throw readError(`lease of workflow ${namespace}/${name}`, e);
    });
  }

  /** For `gc`: deletes leases that expired at `now`. */
  async deleteExpired(now: number): Promise<void> {
    const root = this.ctx.leasesRoot();
    for (const ns of await listNames(root)) {
      for (const f of await listNames(join(root, ns))) {
        if (!f.endsWith(".json")) continue;
        const path = join(root, ns, f);
        await withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
          const lease = await readJson<Lease>(path);
          if (lease && lease.expiresAt <= now) await removeFile(path, this.ctx.dirs);
        });
      }
    }
  }
}
