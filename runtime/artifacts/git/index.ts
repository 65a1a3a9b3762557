import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { GitArtifactDriver, redactCredentials } from "./git.js";

export interface GitDriverOptions {
  /** Secret manifests by name, for `usernameSecret`, `passwordSecret` and `sshPrivateKeySecret`. */
  secrets?: SecretLookup;
  /** Bound on the size of the checkout, `.git` included (bytes); default 10 GiB. */
  maxBytes?: number;
  /** The git executable; default `git` on the PATH. */
  gitBinary?: string;
  /** The environment git runs in; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The driver for Argo's `git` artifacts (clone at a revision; inputs only). */
export function createGitDriver(options: GitDriverOptions = {}): GitArtifactDriver {
  return new GitArtifactDriver({
    secrets: options.secrets,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    gitBinary: options.gitBinary ?? "git",
    env: options.env ?? process.env,
  });
}

export { GitArtifactDriver, redactCredentials };
