import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { blockOf, rejectUnsupported, requireString } from "../shared/fields.js";
import { basicAuth, httpDelete, httpDownload, httpExists, httpUpload } from "../shared/http.js";
import {
  readSecretField,
  readSecretValue,
  isSecretKeySelector,
  type SecretLookup,
} from "../shared/secrets.js";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "../shared/codes.js";

export interface HttpSettings {
  secrets: SecretLookup | undefined;
  maxBytes: number;
}

/**
 * Argo's `http` artifacts: GET to load, PUT to save, HEAD to check, DELETE to delete, with the artifact's
 * `headers` and `auth.basicAuth`.
 */
export class HttpArtifactDriver implements ArtifactDriver {
  readonly name = "http";

  constructor(private readonly settings: HttpSettings) {}

  /** The URL and request headers of an artifact; header values may come from Secrets. */
  private request(artifact: Artifact): { url: string; headers: Record<string, string> } {
    const where = `artifact '${artifact.name}' http`;
    const block = blockOf(artifact, "http");
    const url = requireString(block, "url", where);
    const headers: Record<string, string> = {};
    const list = Array.isArray(block.headers) ? (block.headers as Record<string, unknown>[]) : [];
    for (const [i, h] of list.entries()) {
      const name = requireString(h, "name", `${where}.headers[${i}]`);
      const from = (h.valueFrom as { secretKeyRef?: unknown } | undefined)?.secretKeyRef;
      if (isSecretKeySelector(from)) {
        const v = readSecretValue(this.settings.secrets, from, `${where}.headers[${i}].valueFrom`);
        if (v !== undefined) headers[name] = v;
      } else if (typeof h.value === "string") {
        headers[name] = h.value;
      }
    }
    const auth = (block.auth ?? {}) as Record<string, unknown>;
    rejectUnsupported(auth, ["oauth2", "clientCert"], `${where}.auth`);
    if (auth.basicAuth) {
      const basic = auth.basicAuth as Record<string, unknown>;
      const user = readSecretField(this.settings.secrets, basic, "usernameSecret", `${where}.auth.basicAuth`);
      const pass = readSecretField(this.settings.secrets, basic, "passwordSecret", `${where}.auth.basicAuth`);
      if (user === undefined) {
        throw new SkiffError(
          ARTD_CODES["SKF-ARTD-004"],
          `${where}.auth.basicAuth.usernameSecret is required`,
        );
      }
      headers.authorization = basicAuth(user, pass ?? "");
    }
    return { url, headers };
  }

  async save(artifact: Artifact, localPath: string): Promise<void> {
    const { url, headers } = this.request(artifact);
    await httpUpload(url, headers, localPath);
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    const { url, headers } = this.request(artifact);
    await httpDownload(artifact, url, headers, localPath, this.settings.maxBytes);
  }

  async exists(artifact: Artifact): Promise<boolean> {
    const { url, headers } = this.request(artifact);
    return httpExists(url, headers);
  }

  async delete(artifact: Artifact): Promise<void> {
    const { url, headers } = this.request(artifact);
    await httpDelete(url, headers);
  }
}
