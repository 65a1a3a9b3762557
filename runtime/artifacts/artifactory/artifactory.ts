import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { blockOf, requireString } from "../shared/fields.js";
import { isDirectory } from "../shared/files.js";
import { basicAuth, httpDelete, httpDownload, httpExists, httpUpload } from "../shared/http.js";
import { readSecretField, type SecretLookup } from "../shared/secrets.js";

export interface ArtifactorySettings {
  secrets: SecretLookup | undefined;
  env: Record<string, string | undefined>;
  maxBytes: number;
}

/**
 * Argo's `artifactory` artifacts: the artifact's `url` is the file's full path in a repository
 * (`https://host/artifactory/repo/path/file.tgz`); deploy is one PUT with the file's SHA-1 and SHA-256 as
 * `X-Checksum-*` headers, which Artifactory verifies before it stores the file.
 */
export class ArtifactoryArtifactDriver implements ArtifactDriver {
  readonly name = "artifactory";

  constructor(private readonly settings: ArtifactorySettings) {}

  private request(artifact: Artifact): { url: string; headers: Record<string, string> } {
    const where = `artifact '${artifact.name}' artifactory`;
    const block = blockOf(artifact, "artifactory");
    const url = requireString(block, "url", where);
    const user =
      readSecretField(this.settings.secrets, block, "usernameSecret", where) ??
      this.settings.env.ARTIFACTORY_USERNAME;
    const pass =
      readSecretField(this.settings.secrets, block, "passwordSecret", where) ??
      this.settings.env.ARTIFACTORY_PASSWORD;
    const headers: Record<string, string> = {};
    if (user !== undefined) headers.authorization = basicAuth(user, pass ?? "");
    return { url, headers };
  }

  async save(artifact: Artifact, localPath: string): Promise<void> {
    const { url, headers } = this.request(artifact);
    if (!(await isDirectory(localPath))) {
      const [sha1, sha256] = await digests(localPath);
      headers["x-checksum-sha1"] = sha1;
      headers["x-checksum-sha256"] = sha256;
    }
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

async function digests(file: string): Promise<[string, string]> {
  const sha1 = createHash("sha1");
  const sha256 = createHash("sha256");
  for await (const chunk of createReadStream(file)) {
    sha1.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return [sha1.digest("hex"), sha256.digest("hex")];
}
