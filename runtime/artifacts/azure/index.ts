import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { AzureArtifactDriver, accountOf, type TokenCredential } from "./azure.js";

export interface AzureDriverOptions {
  /** Secret manifests by name, for `accountKeySecret` (an account key or a SAS token). */
  secrets?: SecretLookup;
  /** Where `AZURE_STORAGE_KEY` is read when the artifact names no Secret. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** The credential `useSDKCreds: true` artifacts use (e.g. `DefaultAzureCredential` from `@azure/identity`). */
  credential?: TokenCredential;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
  /** Files up to this size are one Put Blob; larger ones are staged in blocks of this size. Default 8 MiB. */
  blockSize?: number;
}

/** The driver for Argo's `azure` artifacts (Azure Blob Storage and Azurite). */
export function createAzureDriver(options: AzureDriverOptions = {}): AzureArtifactDriver {
  return new AzureArtifactDriver({
    secrets: options.secrets,
    env: options.env ?? process.env,
    credential: options.credential,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    blockSize: options.blockSize ?? 8 * 1024 ** 2,
  });
}

export { AzureArtifactDriver, accountOf, type TokenCredential };
