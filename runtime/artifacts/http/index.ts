import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { HttpArtifactDriver } from "./http.js";

export interface HttpDriverOptions {
  /** Secret manifests by name, for `auth.basicAuth` and headers with `valueFrom.secretKeyRef`. */
  secrets?: SecretLookup;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
  /** Extra CA certificates (PEM) trusted for artifact servers, beside the system's. */
  ca?: string;
}

/** The driver for Argo's `http` artifacts (GET/PUT/HEAD/DELETE on a URL). */
export function createHttpDriver(options: HttpDriverOptions = {}): HttpArtifactDriver {
  return new HttpArtifactDriver({
    secrets: options.secrets,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    ca: options.ca,
  });
}

export { HttpArtifactDriver };
