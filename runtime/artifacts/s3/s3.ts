import { createReadStream } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { blockOf, optionalString, rejectUnsupported, requireString, storageError } from "../shared/fields.js";
import {
  type ObjectLocation,
  type ObjectStore,
  ObjectStoreDriver,
  type StoredObject,
} from "../shared/object-store.js";
import { fingerprint, readSecretField, type SecretLookup } from "../shared/secrets.js";

export interface S3Settings {
  secrets: SecretLookup | undefined;
  env: Record<string, string | undefined>;
  maxBytes: number;
  multipartThreshold: number;
  partSize: number;
  forcePathStyle: boolean | undefined;
  clientConfig: Partial<S3ClientConfig>;
}

/** AWS's own endpoint: the SDK picks the regional host itself and virtual-host addressing works. */
const AWS_HOST = /(^|\.)amazonaws\.com(\.cn)?$/;

/** Argo's S3 fields Skiff does not implement. */
const UNSUPPORTED = ["roleARN"] as const;

/** How one artifact's block reaches S3: the client options and what the uploads add. */
interface S3Target {
  bucket: string;
  key: string;
  config: S3ClientConfig;
  /** Identifies the client configuration without holding secret values. */
  clientKey: string;
  createBucket: boolean;
  encryption: Pick<PutObjectCommandInput, "ServerSideEncryption" | "SSEKMSKeyId" | "SSEKMSEncryptionContext">;
}

/**
 * Argo's `s3` artifacts through the AWS SDK v3, against AWS or any S3-compatible server (MinIO, Ceph...). Files
 * up to the multipart threshold go up in one PutObject, larger ones as a multipart upload; both make the
 * object visible only when complete, so no temporary key is needed.
 */
export class S3ArtifactDriver extends ObjectStoreDriver {
  private readonly clients = new Map<string, S3Client>();

  constructor(private readonly settings: S3Settings) {
    super("s3", (a) => this.locateS3(a), settings.maxBytes);
  }

  private locateS3(artifact: Artifact): ObjectLocation {
    const t = this.target(artifact);
    const client = this.clientFor(t);
    const where = `s3://${t.bucket}/${t.key}`;
    return { store: new S3Store(client, t, this.settings, where), key: t.key, where };
  }

  private target(artifact: Artifact): S3Target {
    const where = `artifact '${artifact.name}' s3`;
    const block = blockOf(artifact, "s3");
    rejectUnsupported(block, UNSUPPORTED, where);
    const enc = (block.encryptionOptions ?? {}) as Record<string, unknown>;
    rejectUnsupported(enc, ["serverSideCustomerKeySecret"], `${where}.encryptionOptions`);
    const bucket = requireString(block, "bucket", where);
    const key = requireString(block, "key", where);
    const region = optionalString(block, "region") ?? this.settings.env.AWS_REGION ?? "us-east-1";
    const config: S3ClientConfig = { region };
    let endpointId = "aws";
    const endpoint = optionalString(block, "endpoint");
    if (endpoint !== undefined) {
      const url = new URL(
        /^[a-z]+:\/\//i.test(endpoint)
          ? endpoint
          : `${block.insecure === true ? "http" : "https"}://${endpoint}`,
      );
      const aws = AWS_HOST.test(url.hostname);
      if (!aws || url.hostname !== "s3.amazonaws.com") config.endpoint = url.origin;
      // MinIO and most S3-compatible servers only understand path-style addressing; Argo's client does the same.
      config.forcePathStyle = this.settings.forcePathStyle ?? !aws;
      if (!aws) {
        // The SDK's default CRC32 trailers are rejected by older S3-compatible servers.
        config.requestChecksumCalculation = "WHEN_REQUIRED";
        config.responseChecksumValidation = "WHEN_REQUIRED";
      }
      endpointId = `${url.origin}|${config.forcePathStyle}`;
    } else if (this.settings.forcePathStyle !== undefined) {
      config.forcePathStyle = this.settings.forcePathStyle;
    }
    const accessKey = readSecretField(this.settings.secrets, block, "accessKeySecret", where);
    const secretKey = readSecretField(this.settings.secrets, block, "secretKeySecret", where);
    const sessionToken = readSecretField(this.settings.secrets, block, "sessionTokenSecret", where);
    let credId: string;
    if (accessKey !== undefined && secretKey !== undefined) {
      config.credentials = { accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken };
      credId = `secret:${fingerprint(accessKey, secretKey, sessionToken)}`;
    } else if (block.useSDKCreds === true) {
      credId = "sdk"; // the SDK's default chain: environment, profile, web identity, instance role
    } else if (this.settings.env.AWS_ACCESS_KEY_ID && this.settings.env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = {
        accessKeyId: this.settings.env.AWS_ACCESS_KEY_ID,
        secretAccessKey: this.settings.env.AWS_SECRET_ACCESS_KEY,
        sessionToken: this.settings.env.AWS_SESSION_TOKEN,
      };
      credId = `env:${fingerprint(this.settings.env.AWS_ACCESS_KEY_ID, this.settings.env.AWS_SECRET_ACCESS_KEY, this.settings.env.AWS_SESSION_TOKEN)}`;
    } else {
      // No credentials anywhere: anonymous requests, as Argo's client sends for public buckets.
      config.credentials = { accessKeyId: "", secretAccessKey: "" };
      config.signer = { sign: (request) => Promise.resolve(request) };
      credId = "anonymous";
    }
    // A private CA (self-signed MinIO, an internal Ceph): trusted for this endpoint only, not process-wide.
    const ca = readSecretField(this.settings.secrets, block, "caSecret", where);
    if (ca !== undefined) config.requestHandler = { httpsAgent: new HttpsAgent({ ca, keepAlive: true }) };
    const encryption: S3Target["encryption"] = {};
    if (enc.enableEncryption === true) {
      const kmsKeyId = optionalString(enc, "kmsKeyId");
      encryption.ServerSideEncryption = kmsKeyId ? "aws:kms" : "AES256";
      if (kmsKeyId) encryption.SSEKMSKeyId = kmsKeyId;
      const context = optionalString(enc, "kmsEncryptionContext");
      if (context) encryption.SSEKMSEncryptionContext = Buffer.from(context).toString("base64");
    }
    return {
      bucket,
      key,
      config,
      clientKey: `${endpointId}|${region}|${credId}|${ca === undefined ? "" : fingerprint(ca)}`,
      createBucket:
        typeof block.createBucketIfNotPresent === "object" && block.createBucketIfNotPresent !== null,
      encryption,
    };
  }

  private clientFor(t: S3Target): S3Client {
    let client = this.clients.get(t.clientKey);
    if (!client) {
      client = new S3Client({ ...t.config, ...this.settings.clientConfig });
      this.clients.set(t.clientKey, client);
    }
    return client;
  }

  /** Closes the connections of every client the driver opened. */
  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isMissing(e: unknown): boolean {
  const name = (e as { name?: string }).name;
  return name === "NoSuchKey" || name === "NotFound" || (statusOf(e) === 404 && name !== "NoSuchBucket");
}

class S3Store implements ObjectStore {
  private bucketChecked = false;

  constructor(
    private readonly client: S3Client,
    private readonly t: S3Target,
    private readonly settings: S3Settings,
    private readonly where: string,
  ) {}

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      const name = (e as { name?: string }).name ?? "";
      const status = statusOf(e);
      const auth = ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"].includes(name);
      throw storageError(this.where, action, e, auth ? 403 : status);
    }
  }

  private async ensureBucket(): Promise<void> {
    if (!this.t.createBucket || this.bucketChecked) return;
    await this.call("checking bucket of", async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.t.bucket }));
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        await this.client.send(new CreateBucketCommand({ Bucket: this.t.bucket }));
      }
    });
    this.bucketChecked = true;
  }

  async put(key: string, file: string, size: number): Promise<void> {
    await this.ensureBucket();
    const params = { Bucket: this.t.bucket, Key: key, ...this.t.encryption };
    await this.call("uploading to", async () => {
      if (size < this.settings.multipartThreshold) {
        await this.client.send(
          new PutObjectCommand({ ...params, Body: createReadStream(file), ContentLength: size }),
        );
        return;
      }
      // A failed multipart upload is aborted (leavePartsOnError: false): the object never appears half written.
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: createReadStream(file) },
        partSize: this.settings.partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.call("downloading", async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.t.bucket, Key: key }));
        if (!out.Body) return { body: (async function* () {})() };
        return { body: out.Body as StoredObject["body"], size: out.ContentLength };
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    });
  }

  async has(key: string): Promise<boolean> {
    return this.call("checking", async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.t.bucket, Key: key }));
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
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.t.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    });
  }

  async remove(key: string): Promise<void> {
    await this.call("deleting", () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.t.bucket, Key: key })),
    );
  }
}
