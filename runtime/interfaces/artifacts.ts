import type { Artifact } from "../spec/types.js";

/**
 * Moves one artifact between a storage backend and a local path. One implementation per backend under
 * `runtime/artifacts/<name>/`. `load` writes the artifact as stored (the caller unpacks archives).
 */
export interface ArtifactDriver {
  readonly name: string;
  save(artifact: Artifact, localPath: string): Promise<void>;
  load(artifact: Artifact, localPath: string): Promise<void>;
  exists(artifact: Artifact): Promise<boolean>;
  delete(artifact: Artifact): Promise<void>;
}

/** The default place output artifacts go (Argo's artifact repository). */
export interface ArtifactRepository {
  /** Returns a copy of `artifact` with this repository's location filled in for `key`. */
  locate(artifact: Artifact, key: string): Artifact;
  /** The driver for an artifact with a location. Throws a SkiffError for backends not configured. */
  driverFor(artifact: Artifact): ArtifactDriver;
}
