import type { ArtifactDriver, ArtifactRepository } from "../interfaces/artifacts.js";
import type { Artifact } from "../spec/types.js";
import { SkiffError } from "../errors/index.js";
import { ART_CODES } from "./codes.js";
import { createLocalDriver } from "./local/index.js";
import { createRawDriver } from "./raw/index.js";

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

/**
 * Skiff's embedded artifact repository: artifacts are files under `root`, located as `{ local: { key } }` with
 * Argo's default keys (`<workflow>/<pod>/<artifact>.tgz`). Reads `raw` artifacts too; other storages give
 * SKF-ART-004 until their drivers exist.
 */
export function createLocalRepository(root: string): ArtifactRepository {
  const local = createLocalDriver({ root });
  const raw = createRawDriver();
  return {
    locate(artifact: Artifact, key: string): Artifact {
      const out: Artifact = { ...artifact };
      for (const f of LOCATION_FIELDS) delete out[f];
      out.local = { key };
      return out;
    },
    driverFor(artifact: Artifact): ArtifactDriver {
      const field = locationOf(artifact);
      if (field === "local") return local;
      if (field === "raw") return raw;
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
