import { isIP } from "node:net";
import OSS from "ali-oss";
import type { Artifact } from "../../spec/types.js";
import { blockOf, optionalString, requireString, storageError } from "../shared/fields.js";
import {
  type ObjectLocation,
  type ObjectStore,
  ObjectStoreDriver,
  type StoredObject,
} from "../shared/object-store.js";
import { fingerprint, readSecretField, type SecretLookup } from "../shared/secrets.js";

export interface OssSettings {
  secrets: SecretLookup | undefined;
  env: Record<string, string | undefined>;
  maxBytes: number;
  multipartThreshold: number;
  partSize: number;
  pathStyle: boolean | undefined;
}

/** Per request; generous because a download streams through one request. */
const REQUEST_TIMEOUT_MS = 10 * 60_000;

/**
 * Argo's `oss` artifacts (Alibaba Cloud Object Storage) through `ali-oss`. Files below the multipart threshold are
 * one PutObject; larger ones a multipart upload, aborted when it fails. OSS shows an object only once a PutObject
 * or CompleteMultipartUpload has finished, so no temporary key is needed.
 */
export class OssArtifactDriver extends ObjectStoreDriver {
  private readonly clients = new Map<string, OSS>();

  constructor(private readonly settings: OssSettings) {
    super("oss", (a) => this.locateOss(a), settings.maxBytes);
  }

  private locateOss(artifact: Artifact): ObjectLocation {
    const where = `artifact '${artifact.name}' oss`;
    const block = blockOf(artifact, "oss");
    const endpoint = requireString(block, "endpoint", where);
    const bucket = requireString(block, "bucket", where);
    const key = requireString(block, "key", where);
    const s = this.settings.secrets;
    const env = this.settings.env;
    const accessKeyId =
      readSecretField(s, block, "accessKeySecret", where) ??
      env.OSS_ACCESS_KEY_ID ??
      env.ALIBABA_CLOUD_ACCESS_KEY_ID ??
      "";
    const accessKeySecret =
      readSecretField(s, block, "secretKeySecret", where) ??
      env.OSS_ACCESS_KEY_SECRET ??
      env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ??
      "";
    const stsToken =
      optionalString(block, "securityToken") ?? env.OSS_SESSION_TOKEN ?? env.ALIBABA_CLOUD_SECURITY_TOKEN;
    const url = new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`);
    // ali-oss puts the bucket in the host unless told otherwise; an IP address or localhost has no such subdomain.
    const pathStyle =
      this.settings.pathStyle ??
      (isIP(url.hostname.replace(/^\[|\]$/g, "")) !== 0 || url.hostname === "localhost");
    const id = `${url.origin}|${bucket}|${pathStyle}|${fingerprint(accessKeyId, accessKeySecret, stsToken)}`;
    let client = this.clients.get(id);
    if (!client) {
      client = new OSS({
        endpoint: url.origin,
        secure: url.protocol === "https:",
        bucket,
        accessKeyId,
        accessKeySecret,
        ...(stsToken ? { stsToken } : {}),
        timeout: REQUEST_TIMEOUT_MS,
        ...({ sldEnable: pathStyle } as object),
      } as OSS.Options);
      this.clients.set(id, client);
    }
    const place = `oss://${bucket}/${key}`;
    const createBucket = block.createBucketIfNotPresent === true;
    return {
      store: new OssStore(
        client,
        this.settings,
        place,
        createBucket ? { name: bucket, id: `${url.origin}|${bucket}` } : undefined,
      ),
      key,
      where: place,
    };
  }
}

/** Buckets (by endpoint) this process has made sure exist, so each is created at most once. */
const created = new Set<string>();

interface OssError {
  status?: number;
  code?: string;
}

function isMissing(e: unknown): boolean {
  const err = e as OssError;
  return err.status === 404 && err.code !== "NoSuchBucket";
}

class OssStore implements ObjectStore {
  constructor(
    private readonly client: OSS,
    private readonly settings: OssSettings,
    private readonly where: string,
    /** The bucket to create before the first upload (`createBucketIfNotPresent`), if any. */
    private readonly bucketToCreate: { name: string; id: string } | undefined,
  ) {}

  private async ensureBucket(): Promise<void> {
    if (this.bucketToCreate === undefined || created.has(this.bucketToCreate.id)) return;
    try {
      await this.client.putBucket(this.bucketToCreate.name);
    } catch (e) {
      // 409 BucketAlreadyExists: it is there (ours or not; a foreign bucket fails on the upload itself).
      if ((e as OssError).status !== 409) throw e;
    }
    created.add(this.bucketToCreate.id);
  }

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw storageError(this.where, action, e, (e as OssError).status);
    }
  }

  async put(key: string, file: string, size: number): Promise<void> {
    await this.call("uploading to", async () => {
      await this.ensureBucket();
      if (size < this.settings.multipartThreshold) {
        await this.client.put(key, file);
        return;
      }
      let uploadId: string | undefined;
      try {
        await this.client.multipartUpload(key, file, {
          partSize: this.settings.partSize,
          parallel: 4,
          progress: (_p: number, checkpoint: { uploadId?: string } | undefined) => {
            uploadId = checkpoint?.uploadId ?? uploadId;
          },
        });
      } catch (e) {
        // Parts of an unfinished upload cost storage and never show as an object; drop them.
        if (uploadId) await this.client.abortMultipartUpload(key, uploadId).catch(() => undefined);
        throw e;
      }
    });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.call("downloading", async () => {
      try {
        const out = await this.client.getStream(key);
        const length = (out.res as { headers?: Record<string, string> }).headers?.["content-length"];
        const body = out.stream as StoredObject["body"];
        return length === undefined ? { body } : { body, size: Number(length) };
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    });
  }

  async has(key: string): Promise<boolean> {
    return this.call("checking", async () => {
      try {
        await this.client.head(key);
        return true;
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
    });
  }

  async list(prefix: string): Promise<string[]> {
    return this.call("listing", async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const query: Record<string, string> = { prefix, "max-keys": "1000" };
        if (token) query["continuation-token"] = token;
        const page = await this.client.listV2(query as OSS.ListV2ObjectsQuery, {});
        for (const o of page.objects ?? []) keys.push(o.name);
        token = page.isTruncated ? (page.nextContinuationToken ?? undefined) : undefined;
      } while (token);
      return keys;
    });
  }

  async remove(key: string): Promise<void> {
    await this.call("deleting", async () => {
      try {
        await this.client.delete(key);
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    });
  }
}
