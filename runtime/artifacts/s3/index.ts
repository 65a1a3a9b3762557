import type { S3ClientConfig } from "@aws-sdk/client-s3";
import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { S3ArtifactDriver } from "./s3.js";

export interface S3DriverOptions {
  /** Secret manifests by name, for `accessKeySecret`, `secretKeySecret` and `sessionTokenSecret`. */
  secrets?: SecretLookup;
  /**
   * Where `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and `AWS_REGION` are read when the
   * artifact names no Secret. Defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
  /** Files of this size or more go up as a multipart upload; default 64 MiB. */
  multipartThreshold?: number;
  /** Multipart part size (at least 5 MiB, S3's minimum); default 16 MiB. */
  partSize?: number;
  /**
   * Path-style (`https://host/bucket/key`) or virtual-host (`https://bucket.host/key`) addressing. By default
   * path-style for custom endpoints and virtual-host for AWS, as Argo's client does.
   */
  forcePathStyle?: boolean;
  /** Extra AWS SDK client settings merged over the driver's (e.g. a `requestHandler` with a proxy agent). */
  clientConfig?: Partial<S3ClientConfig>;
}

/** The driver for Argo's `s3` artifacts (AWS S3 and S3-compatible servers). */
export function createS3Driver(options: S3DriverOptions = {}): S3ArtifactDriver {
  return new S3ArtifactDriver({
    secrets: options.secrets,
    env: options.env ?? process.env,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    multipartThreshold: options.multipartThreshold ?? 64 * 1024 ** 2,
    partSize: Math.max(options.partSize ?? 16 * 1024 ** 2, 5 * 1024 ** 2),
    forcePathStyle: options.forcePathStyle,
    clientConfig: options.clientConfig ?? {},
  });
}

export { S3ArtifactDriver };
