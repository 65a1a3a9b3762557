import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { blockOf, isAuthStatus, requireString } from "../shared/fields.js";
import {
  type HttpTls,
  basicAuth,
  httpDelete,
  httpDownload,
  httpExists,
  httpUpload,
  redactUrl,
} from "../shared/http.js";
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
  ca: string | undefined;
}

interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  tls: HttpTls | undefined;
}

/**
 * Argo's `http` artifacts: GET to load, PUT to save, HEAD to check, DELETE to delete, with the artifact's
 * `headers` and `auth.basicAuth` or `auth.oauth2` (client-credentials grant).
 */
export class HttpArtifactDriver implements ArtifactDriver {
  readonly name = "http";

  constructor(private readonly settings: HttpSettings) {}

  /** The URL and request headers of an artifact; header values may come from Secrets. */
  private async request(artifact: Artifact): Promise<HttpRequest> {
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
    let tls: HttpTls | undefined = this.settings.ca === undefined ? undefined : { ca: this.settings.ca };
    if (auth.clientCert) {
      const cc = auth.clientCert as Record<string, unknown>;
      const cert = readSecretField(this.settings.secrets, cc, "clientCertSecret", `${where}.auth.clientCert`);
      const key = readSecretField(this.settings.secrets, cc, "clientKeySecret", `${where}.auth.clientCert`);
      if (cert === undefined || key === undefined) {
        throw new SkiffError(
          ARTD_CODES["SKF-ARTD-004"],
          `${where}.auth.clientCert needs clientCertSecret and clientKeySecret`,
        );
      }
      tls = { ...tls, cert, key };
    }
    if (auth.oauth2) {
      const token = await this.oauth2Token(auth.oauth2 as Record<string, unknown>, `${where}.auth.oauth2`);
      headers.authorization = `Bearer ${token}`;
    }
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
    return { url, headers, tls };
  }

  async save(artifact: Artifact, localPath: string): Promise<void> {
    const { url, headers, tls } = await this.request(artifact);
    await httpUpload(url, headers, localPath, tls);
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    const { url, headers, tls } = await this.request(artifact);
    await httpDownload(artifact, url, headers, localPath, this.settings.maxBytes, tls);
  }

  async exists(artifact: Artifact): Promise<boolean> {
    const { url, headers, tls } = await this.request(artifact);
    return httpExists(url, headers, tls);
  }

  /**
   * An access token by OAuth2's client-credentials grant, as Argo's `auth.oauth2` gets one: the client id and
   * secret as basic auth on a form POST to the token URL, with `scope` and any `endpointParams`.
   */
  private async oauth2Token(block: Record<string, unknown>, where: string): Promise<string> {
    const s = this.settings.secrets;
    const tokenUrl = readSecretField(s, block, "tokenURLSecret", where);
    const clientId = readSecretField(s, block, "clientIDSecret", where);
    const clientSecret = readSecretField(s, block, "clientSecretSecret", where);
    if (tokenUrl === undefined || clientId === undefined) {
      throw new SkiffError(ARTD_CODES["SKF-ARTD-004"], `${where} needs tokenURLSecret and clientIDSecret`);
    }
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const scopes = Array.isArray(block.scopes) ? block.scopes.filter((x) => typeof x === "string") : [];
    if (scopes.length > 0) form.set("scope", scopes.join(" "));
    for (const p of Array.isArray(block.endpointParams)
      ? (block.endpointParams as Record<string, unknown>[])
      : []) {
      if (typeof p.key === "string") form.append(p.key, typeof p.value === "string" ? p.value : "");
    }
    let res: Response;
    try {
      res = await fetch(tokenUrl, {
        method: "POST",
        headers: {
          authorization: basicAuth(encodeURIComponent(clientId), encodeURIComponent(clientSecret ?? "")),
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
      });
    } catch (e) {
      throw new SkiffError(
        ARTD_CODES["SKF-ARTD-005"],
        `${where}: token request to ${redactUrl(tokenUrl)} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown };
    if (!res.ok || typeof body.access_token !== "string") {
      throw new SkiffError(
        isAuthStatus(res.status) || res.status === 400
          ? ARTD_CODES["SKF-ARTD-006"]
          : ARTD_CODES["SKF-ARTD-005"],
        `${where}: the token endpoint ${redactUrl(tokenUrl)} gave no access token (HTTP ${res.status})`,
      );
    }
    return body.access_token;
  }

  async delete(artifact: Artifact): Promise<void> {
    const { url, headers, tls } = await this.request(artifact);
    await httpDelete(url, headers, tls);
  }
}
