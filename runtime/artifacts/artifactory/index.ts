import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { ArtifactoryArtifactDriver } from "./artifactory.js";

export interface ArtifactoryDriverOptions {
  /** Secret manifests by name, for `usernameSecret` and `passwordSecret`. */
  secrets?: SecretLookup;
  /**
   * Where `ARTIFACTORY_USERNAME` and `ARTIFACTORY_PASSWORD` (or an API key as password) are read when the
   * artifact names no Secret. Defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
}

/** The driver for Argo's `artifactory` artifacts. */
export function createArtifactoryDriver(options: ArtifactoryDriverOptions = {}): ArtifactoryArtifactDriver {
  return new ArtifactoryArtifactDriver({
    secrets: options.secrets,
    env: options.env ?? process.env,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
  });
}

export { ArtifactoryArtifactDriver };
