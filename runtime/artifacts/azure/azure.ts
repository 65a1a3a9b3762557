import {
  AnonymousCredential,
  BlobServiceClient,
  RestError,
  StorageSharedKeyCredential,
  type ContainerClient,
} from "@azure/storage-blob";
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

/** A token credential as the Blob SDK takes it (e.g. `DefaultAzureCredential` from `@azure/identity`). */
export type TokenCredential = Extract<
  NonNullable<ConstructorParameters<typeof BlobServiceClient>[1]>,
  { getToken: unknown }
>;

export interface AzureSettings {
  secrets: SecretLookup | undefined;
  env: Record<string, string | undefined>;
  maxBytes: number;
  blockSize: number;
  credential: TokenCredential | undefined;
}

/**
 * Argo's `azure` artifacts through `@azure/storage-blob`. Uploads are block blobs: one Put Blob for small files,
 * staged blocks and a final block-list commit for larger ones; either way the blob changes only when the upload
 * completes, so no temporary name is needed.
 */
export class AzureArtifactDriver extends ObjectStoreDriver {
  private readonly services = new Map<string, BlobServiceClient>();

  constructor(private readonly settings: AzureSettings) {
    super("azure", (a) => this.locateAzure(a), settings.maxBytes);
  }

  private locateAzure(artifact: Artifact): ObjectLocation {
    const where = `artifact '${artifact.name}' azure`;
    const block = blockOf(artifact, "azure");
    const endpoint = requireString(block, "endpoint", where).replace(/\/+$/, "");
    const containerName = requireString(block, "container", where);
    const blob = requireString(block, "blob", where);
    const container = this.serviceFor(endpoint, block, where).getContainerClient(containerName);
    const place = `azure://${containerName}/${blob}`;
    return { store: new AzureStore(container, this.settings, place), key: blob, where: place };
  }

  private serviceFor(endpoint: string, block: Record<string, unknown>, where: string): BlobServiceClient {
    const key =
      readSecretField(this.settings.secrets, block, "accountKeySecret", where) ??
      (block.useSDKCreds === true ? undefined : this.settings.env.AZURE_STORAGE_KEY);
    // Cached per endpoint and credentials; only a digest of the key is kept as the map key.
    const id = `${endpoint}|${block.useSDKCreds === true}|${fingerprint(key)}`;
    let service = this.services.get(id);
    if (service) return service;
    if (block.useSDKCreds === true) {
      if (!this.settings.credential) {
        throw new SkiffError(
          ARTD_CODES["SKF-ARTD-007"],
          `${where}.useSDKCreds needs a token credential: pass one as the driver's 'credential' option`,
        );
      }
      service = new BlobServiceClient(endpoint, this.settings.credential);
    } else if (key !== undefined && isSasToken(key)) {
      // Argo accepts a SAS token in place of the account key.
      service = new BlobServiceClient(`${endpoint}?${key.replace(/^\?/, "")}`, new AnonymousCredential());
    } else if (key !== undefined) {
      service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(accountOf(endpoint), key));
    } else {
      service = new BlobServiceClient(endpoint, new AnonymousCredential());
    }
    this.services.set(id, service);
    return service;
  }
}

function isSasToken(key: string): boolean {
  return /(^|[?&])sig=/.test(key);
}

/**
 * The storage account an endpoint names: the first label of `<account>.blob.core.windows.net`, or the first path
 * segment for emulator-style endpoints (`http://127.0.0.1:10000/devstoreaccount1`).
 */
export function accountOf(endpoint: string): string {
  const url = new URL(endpoint);
  const segment = url.pathname.split("/").find((s) => s !== "");
  if (segment) return segment;
  return url.hostname.split(".")[0] ?? url.hostname;
}

function statusOf(e: unknown): number | undefined {
  return e instanceof RestError ? e.statusCode : undefined;
}

class AzureStore implements ObjectStore {
  constructor(
    private readonly container: ContainerClient,
    private readonly settings: AzureSettings,
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
    await this.call("uploading to", () =>
      this.container.getBlockBlobClient(key).uploadFile(file, {
        blockSize: this.settings.blockSize,
        // Above one block, staged blocks: a failed upload leaves only uncommitted blocks, never a partial blob.
        maxSingleShotSize: this.settings.blockSize,
        concurrency: 4,
      }),
    );
  }

  async get(key: string): Promise<StoredObject | undefined> {
    return this.call("downloading", async () => {
      try {
        const out = await this.container.getBlobClient(key).download();
        if (!out.readableStreamBody) return { body: (async function* () {})() };
        return {
          body: out.readableStreamBody as NodeJS.ReadableStream as StoredObject["body"],
          size: out.contentLength,
        };
      } catch (e) {
        if (statusOf(e) === 404 && (e as RestError).code !== "ContainerNotFound") return undefined;
        throw e;
      }
    });
  }

  async has(key: string): Promise<boolean> {
    return this.call("checking", () => this.container.getBlobClient(key).exists());
  }

  async list(prefix: string): Promise<string[]> {
    return this.call("listing", async () => {
      const names: string[] = [];
      for await (const b of this.container.listBlobsFlat({ prefix })) names.push(b.name);
      return names;
    });
  }

  async remove(key: string): Promise<void> {
    await this.call("deleting", () => this.container.getBlobClient(key).deleteIfExists());
  }
}
