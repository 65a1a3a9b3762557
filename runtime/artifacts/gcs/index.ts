import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { GcsArtifactDriver } from "./gcs.js";

export interface GcsDriverOptions {
  /** Secret manifests by name, for `serviceAccountKeySecret` (a JSON service account key). */
  secrets?: SecretLookup;
  /**
   * The JSON API's base URL, for emulators and tests (`http://127.0.0.1:4443`). Requests to a custom endpoint
   * are sent without authentication, as the Google client does.
   */
  apiEndpoint?: string;
  /** The project billed for requests; by default the key's `project_id` or the environment's. */
  projectId?: string;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
}

/** The driver for Argo's `gcs` artifacts (Google Cloud Storage). */
export function createGcsDriver(options: GcsDriverOptions = {}): GcsArtifactDriver {
  return new GcsArtifactDriver({
    secrets: options.secrets,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    apiEndpoint: options.apiEndpoint,
    projectId: options.projectId,
  });
}

export { GcsArtifactDriver };
