import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import type { ArtifactoryDriverOptions } from "../artifactory/index.js";
import type { AzureDriverOptions } from "../azure/index.js";
import type { GcsDriverOptions } from "../gcs/index.js";
import type { GitDriverOptions } from "../git/index.js";
import type { HttpDriverOptions } from "../http/index.js";
import type { OssDriverOptions } from "../oss/index.js";
import type { S3DriverOptions } from "../s3/index.js";
import type { SecretLookup } from "./secrets.js";

/** The Argo location fields served by the remote drivers. */
export const REMOTE_FIELDS = ["s3", "gcs", "azure", "http", "git", "artifactory", "oss"] as const;
export type RemoteField = (typeof REMOTE_FIELDS)[number];

export interface RemoteDriverOptions {
  /** Secret manifests by name, for every driver's credential fields. */
  secrets?: SecretLookup;
  /** Where drivers read credentials from the environment; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Bound on what one artifact may hold when loaded (bytes), for every driver; default 10 GiB. */
  maxBytes?: number;
  /** Per-driver settings, over the shared ones above. */
  s3?: S3DriverOptions;
  gcs?: GcsDriverOptions;
  azure?: AzureDriverOptions;
  http?: HttpDriverOptions;
  git?: GitDriverOptions;
  artifactory?: ArtifactoryDriverOptions;
  oss?: OssDriverOptions;
}

/**
 * One driver per remote storage, each loading its SDK on first use: a run that touches no S3 artifact never
 * evaluates the AWS SDK, which keeps the CLI's start-up fast.
 */
export function createRemoteDrivers(options: RemoteDriverOptions = {}): Record<RemoteField, ArtifactDriver> {
  const shared = {
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
  };
  return {
    s3: lazyDriver("s3", async () =>
      (await import("../s3/index.js")).createS3Driver({ ...shared, ...options.s3 }),
    ),
    gcs: lazyDriver("gcs", async () =>
      (await import("../gcs/index.js")).createGcsDriver({ ...shared, ...options.gcs }),
    ),
    azure: lazyDriver("azure", async () =>
      (await import("../azure/index.js")).createAzureDriver({ ...shared, ...options.azure }),
    ),
    http: lazyDriver("http", async () =>
      (await import("../http/index.js")).createHttpDriver({ ...shared, ...options.http }),
    ),
    git: lazyDriver("git", async () =>
      (await import("../git/index.js")).createGitDriver({ ...shared, ...options.git }),
    ),
    artifactory: lazyDriver("artifactory", async () =>
      (await import("../artifactory/index.js")).createArtifactoryDriver({
        ...shared,
        ...options.artifactory,
      }),
    ),
    oss: lazyDriver("oss", async () =>
      (await import("../oss/index.js")).createOssDriver({ ...shared, ...options.oss }),
    ),
  };
}

/** A driver whose implementation is created on the first call; a failed load is retried on the next call. */
export function lazyDriver(name: string, create: () => Promise<ArtifactDriver>): ArtifactDriver {
  let pending: Promise<ArtifactDriver> | undefined;
  const get = (): Promise<ArtifactDriver> => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
  return {
    name,
    save: async (a: Artifact, p: string) => (await get()).save(a, p),
    load: async (a: Artifact, p: string) => (await get()).load(a, p),
    exists: async (a: Artifact) => (await get()).exists(a),
    delete: async (a: Artifact) => (await get()).delete(a),
  };
}
