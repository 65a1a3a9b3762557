import { DEFAULT_MAX_LOAD_BYTES } from "../shared/files.js";
import type { SecretLookup } from "../shared/secrets.js";
import { OssArtifactDriver } from "./oss.js";

export interface OssDriverOptions {
  /** Secret manifests by name, for `accessKeySecret` and `secretKeySecret`. */
  secrets?: SecretLookup;
  /**
   * Where `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` (or `ALIBABA_CLOUD_ACCESS_KEY_ID`/`..._SECRET`) and a
   * session token are read when the artifact names no Secret. Defaults to `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Bound on what one artifact may hold when loaded (bytes); default 10 GiB. */
  maxBytes?: number;
  /** Files of this size or more go up as a multipart upload; default 64 MiB. */
  multipartThreshold?: number;
  /** Multipart part size (OSS's minimum is 100 KiB); default 16 MiB. */
  partSize?: number;
  /**
   * The bucket in the path (`http://host/bucket/key`) rather than the host name. By default only for endpoints
   * that are IP addresses or `localhost`.
   */
  pathStyle?: boolean;
}

/** The driver for Argo's `oss` artifacts (Alibaba Cloud OSS). */
export function createOssDriver(options: OssDriverOptions = {}): OssArtifactDriver {
  return new OssArtifactDriver({
    secrets: options.secrets,
    env: options.env ?? process.env,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    multipartThreshold: options.multipartThreshold ?? 64 * 1024 ** 2,
    partSize: Math.max(options.partSize ?? 16 * 1024 ** 2, 100 * 1024),
    pathStyle: options.pathStyle,
  });
}

export { OssArtifactDriver };
