import { Storage, type Bucket, type StorageOptions } from "@google-cloud/storage";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "../shared/codes.js";
import { blockOf, requireString, storageError } from "../shared/fields.js";
import {
  type ObjectLocation,
  type ObjectStore,
  ObjectStoreDriver,
  type StoredObject,
} from "../shared/object-store.js";
import { fingerprint, readSecretField, type SecretLookup } from "../shared/secrets.js";

export interface GcsSettings {
  secrets: SecretLookup | undefined;
  maxBytes: number;
  apiEndpoint: string | undefined;
  projectId: string | undefined;
}

/**
 * Argo's `gcs` artifacts through `@google-cloud/storage`. Uploads are single multipart requests
 * (`uploadType=multipart`): GCS makes an object visible only once its upload has completed, so a failed upload
 * never looks complete and no temporary name is needed.
 */
export class GcsArtifactDriver extends ObjectStoreDriver {
  private readonly clients = new Map<string, Storage>();

  constructor(private readonly settings: GcsSettings) {
    super("gcs", (a) => this.locateGcs(a), settings.maxBytes);
  }

  private locateGcs(artifact: Artifact): ObjectLocation {
    const where = `artifact '${artifact.name}' gcs`;
    const block = blockOf(artifact, "gcs");
    const bucketName = requireString(block, "bucket", where);
    const key = requireString(block, "key", where);
    const keyJson = readSecretField(this.settings.secrets, block, "serviceAccountKeySecret", where);
    const bucket = this.clientFor(keyJson, where).bucket(bucketName);
    const place = `gs://${bucketName}/${key}`;
    return { store: new GcsStore(bucket, place), key, where: place };
  }

  private clientFor(keyJson: string | undefined, where: string): Storage {
    let credentials: StorageOptions["credentials"];
    let id = "adc";
    if (keyJson !== undefined) {
      try {
        credentials = JSON.parse(keyJson) as StorageOptions["credentials"];
      } catch {
        throw new SkiffError(
          ARTD_CODES["SKF-ARTD-004"],
          `${where}.serviceAccountKeySecret does not hold a JSON service account key`,
        );
      }
      id = `key:${fingerprint(keyJson)}`;
    }
    let client = this.clients.get(id);
    if (!client) {
      // Without a key, Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server).
      const opts: StorageOptions = {};
      if (credentials) opts.credentials = credentials;
      if (this.settings.apiEndpoint) opts.apiEndpoint = this.settings.apiEndpoint;
      const projectId = this.settings.projectId ?? (credentials as { project_id?: string })?.project_id;
      if (projectId) opts.projectId = projectId;
      client = new Storage(opts);
      this.clients.set(id, client);
    }
    return client;
  }
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

class GcsStore implements ObjectStore {
  constructor(
    private readonly bucket: Bucket,
    private readonly where: string,
  ) {}

  private async call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw storageError(this.where, action, e, statusOf(e));
    }
  }

  async put(key: string, file: string): Promise<void> {
    await this.call("uploading to", () => this.bucket.upload(file, { destination: key, resumable: false }));
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const file = this.bucket.file(key);
    const size = await this.call("downloading", async () => {
      try {
        const [meta] = await file.getMetadata();
        return meta.size === undefined ? undefined : Number(meta.size);
      } catch (e) {
        if (statusOf(e) === 404) return null;
        throw e;
      }
    });
    if (size === null) return undefined;
    const stream = file.createReadStream();
    // Errors surface while the body is read; give them the same code as the other requests.
    const body = (async function* (where: string) {
      try {
        for await (const chunk of stream) yield chunk as Uint8Array;
      } catch (e) {
        throw storageError(where, "downloading", e, statusOf(e));
      }
    })(this.where);
    return size === undefined ? { body } : { body, size };
  }

  async has(key: string): Promise<boolean> {
    return this.call("checking", async () => (await this.bucket.file(key).exists())[0]);
  }

  async list(prefix: string): Promise<string[]> {
    return this.call("listing", async () => {
      const [files] = await this.bucket.getFiles({ prefix, autoPaginate: true });
      return files.map((f) => f.name);
    });
  }

  async remove(key: string): Promise<void> {
    await this.call("deleting", () => this.bucket.file(key).delete({ ignoreNotFound: true }));
  }
}
