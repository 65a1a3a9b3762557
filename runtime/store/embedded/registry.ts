import { join } from "node:path";
import type {
  RegisteredObject,
  RegistryKind,
  RegistryPutOptions,
  RegistryStore,
} from "../../interfaces/store.js";
import { nextRegistered, registryKey, registryNamespace, sortRegistered } from "../registry/index.js";
import type { EmbeddedContext } from "./context.js";
import {
  encodeSegment,
  listNames,
  readError,
  readJson,
  removeFile,
  withFileLock,
  writeError,
  writeFileAtomic,
} from "./files.js";

/**
 * The registry of the embedded store: one file per object (`registry/<kind>/<ns>/<name>.json`, cluster-scoped
 * kinds under the namespace folder `_`), read and replaced under the object's lock file, so that of two
 * processes changing one object the second sees the first's resourceVersion.
 */
export class EmbeddedRegistry implements RegistryStore {
  constructor(private readonly ctx: EmbeddedContext) {}

  private kindRoot(kind: RegistryKind): string {
    return join(this.ctx.dir, "registry", encodeSegment(kind));
  }

  private path(kind: RegistryKind, namespace: string, name: string): string {
    return join(
      this.kindRoot(kind),
      encodeSegment(registryNamespace(kind, namespace)),
      `${encodeSegment(name)}.json`,
    );
  }

  async putRegistered<T extends RegisteredObject>(object: T, options?: RegistryPutOptions): Promise<T> {
    this.ctx.assertOpen();
    const { kind, namespace, name } = registryKey(object);
    const path = this.path(kind, namespace, name);
    return this.ctx.track(
      withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, async () => {
        const stored = nextRegistered(object, await readJson<RegisteredObject>(path), options);
        await writeFileAtomic(path, JSON.stringify(stored), this.ctx.writeOptions);
        return stored;
      }).catch((e: unknown) => {
        throw writeError(`${kind} ${name}`, e);
      }),
    );
  }

  async getRegistered(
    kind: RegistryKind,
    namespace: string,
    name: string,
  ): Promise<RegisteredObject | undefined> {
    this.ctx.assertOpen();
    return readJson<RegisteredObject>(this.path(kind, namespace, name)).catch((e: unknown) => {
      throw readError(`${kind} ${name}`, e);
    });
  }

  async listRegistered(kind: RegistryKind, namespace?: string): Promise<RegisteredObject[]> {
    this.ctx.assertOpen();
    const root = this.kindRoot(kind);
    const out: RegisteredObject[] = [];
    try {
      const folders =
        namespace === undefined ? await listNames(root) : [encodeSegment(registryNamespace(kind, namespace))];
      for (const folder of folders) {
        for (const file of await listNames(join(root, folder))) {
          if (!file.endsWith(".json")) continue;
          const object = await readJson<RegisteredObject>(join(root, folder, file));
          if (object) out.push(object);
        }
      }
    } catch (e) {
      throw readError(`the ${kind}s`, e);
    }
    return sortRegistered(out);
  }

  async deleteRegistered(kind: RegistryKind, namespace: string, name: string): Promise<boolean> {
    this.ctx.assertOpen();
    const path = this.path(kind, namespace, name);
    return this.ctx.track(
      withFileLock(this.ctx.lockPathOf(path), this.ctx.lockOptions, () =>
        removeFile(path, this.ctx.dirs),
      ).catch((e: unknown) => {
        throw writeError(`${kind} ${name}`, e);
      }),
    );
  }
}
