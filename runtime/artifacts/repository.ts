import type { ArtifactDriver, ArtifactRepository } from "../interfaces/artifacts.js";
import type { Artifact } from "../spec/types.js";
import { SkiffError } from "../errors/index.js";
import { ART_CODES } from "./codes.js";
import { createLocalDriver } from "./local/index.js";
import { createRawDriver } from "./raw/index.js";
import {
  createRemoteDrivers,
  REMOTE_FIELDS,
  type RemoteDriverOptions,
  type RemoteField,
} from "./shared/remote.js";

/** The location fields an Argo artifact may carry, in Argo's order, plus Skiff's `local`. */
export const LOCATION_FIELDS = [
  "local",
  "raw",
  "s3",
  "gcs",
  "azure",
  "http",
  "git",
  "artifactory",
  "oss",
  "hdfs",
  "plugin",
] as const;

export type LocationField = (typeof LOCATION_FIELDS)[number];

/** Which storage an artifact's location names; undefined when it names none. */
export function locationOf(artifact: Artifact): LocationField | undefined {
  for (const f of LOCATION_FIELDS) if (artifact[f] !== undefined && artifact[f] !== null) return f;
  return undefined;
}

/** Whether an artifact names a place it is stored at (as opposed to only `name`/`path`). */
export function hasLocation(artifact: Artifact): boolean {
  return locationOf(artifact) !== undefined;
}

/** Which field holds the key of a storage block, for Argo's key-only artifacts. */
const KEY_FIELDS: Partial<Record<LocationField, string>> = {
  s3: "key",
  gcs: "key",
  oss: "key",
  azure: "blob",
  hdfs: "path",
};

/**
 * Argo's key-only artifacts: a storage block holding nothing but its key (`s3: { key: my-file }`) means "this
 * key in the default artifact repository". Returns that key, or undefined for a full location.
 */
export function keyOnlyKey(artifact: Artifact): string | undefined {
  const field = locationOf(artifact);
  const keyField = field && KEY_FIELDS[field];
  if (!field || !keyField) return undefined;
  const block = artifact[field] as Record<string, unknown>;
  const set = Object.keys(block).filter(
    (k) => block[k] !== undefined && block[k] !== null && block[k] !== "",
  );
  const key = block[keyField];
  return set.length === 1 && set[0] === keyField && typeof key === "string" ? key : undefined;
}

/**
 * Skiff's embedded artifact repository: artifacts are files under `root`, located as `{ local: { key } }` with
 * Argo's default keys (`<workflow>/<pod>/<artifact>.tgz`). Reads `raw` artifacts too, and hands artifacts that
 * name their own storage (`s3`, `gcs`, `azure`, `http`, `git`, `artifactory`, `oss`) to the remote drivers;
 * `hdfs` and unconfigured plugins give SKF-ART-004.
 */
export interface LocalRepositoryOptions {
  /**
   * Artifact plugin drivers (Argo's controller `artifactDrivers`) that Skiff serves from this repository:
   * a `plugin: {name, key}` artifact of one of these names is stored under its `key`. Argo runs plugins as
   * sidecar images; Skiff has no images to run on the host, so a named plugin maps onto a built-in store.
   */
  localPlugins?: readonly string[];
  /**
   * Settings of the drivers for artifacts that name their own storage (`s3`, `gcs`, `azure`, `http`, `git`,
   * `artifactory`, `oss`): the Secret manifests their credential fields name, the environment, load bounds.
   */
  remote?: RemoteDriverOptions;
}

function isRemoteField(field: string): field is RemoteField {
  return (REMOTE_FIELDS as readonly string[]).includes(field);
}

export function createLocalRepository(
  root: string,
  options: LocalRepositoryOptions = {},
): ArtifactRepository {
  const local = createLocalDriver({ root });
  const plugins = new Set(options.localPlugins ?? []);
  const raw = createRawDriver();
  const remote = createRemoteDrivers(options.remote);
  return {
    locate(artifact: Artifact, key: string): Artifact {
      const out: Artifact = { ...artifact };
      for (const f of LOCATION_FIELDS) delete out[f];
      out.local = { key };
      return out;
    },
    driverFor(artifact: Artifact): ArtifactDriver {
      const key = keyOnlyKey(artifact);
      if (key !== undefined) return keyOnlyDriver(local, key);
      const field = locationOf(artifact);
      if (field === "local") return local;
      if (field === "plugin") {
        const plugin = artifact.plugin as { name?: unknown; key?: unknown };
        if (typeof plugin.name === "string" && plugins.has(plugin.name) && typeof plugin.key === "string") {
          return keyOnlyDriver(local, plugin.key);
        }
        throw new SkiffError(
          ART_CODES["SKF-ART-004"],
          `artifact '${artifact.name}' uses the artifact plugin '${String(plugin.name)}', which is not configured`,
          {
            hint: "Name the plugin under `artifactDrivers` in the Skiff config (`- {name: NAME, repository: local}`).",
          },
        );
      }
      if (field === "raw") return raw;
      if (field !== undefined && isRemoteField(field)) return remote[field];
      if (field === undefined) {
        throw new SkiffError(ART_CODES["SKF-ART-005"], `artifact '${artifact.name}' has no location`);
      }
      throw new SkiffError(
        ART_CODES["SKF-ART-004"],
        `artifact '${artifact.name}' is stored in '${field}', which Skiff cannot read or write yet`,
      );
    },
  };
}

/** Serves a key-only artifact from the local repository under its key. */
function keyOnlyDriver(local: ArtifactDriver, key: string): ArtifactDriver {
  const asLocal = (a: Artifact): Artifact => {
    const out: Artifact = { ...a };
    for (const f of LOCATION_FIELDS) delete out[f];
    out.local = { key };
    return out;
  };
  return {
    name: local.name,
    save: (a, p) => local.save(asLocal(a), p),
    load: (a, p) => local.load(asLocal(a), p),
    exists: (a) => local.exists(asLocal(a)),
    delete: (a) => local.delete(asLocal(a)),
  };
}
