import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ART_CODES } from "../codes.js";

/** Argo's `raw` artifacts: the content is the artifact's own `raw.data`; nothing is stored anywhere. */
export class RawArtifactDriver implements ArtifactDriver {
  readonly name = "raw";

  save(artifact: Artifact, _localPath: string): Promise<void> {
    return Promise.reject(
      new SkiffError(
        ART_CODES["SKF-ART-007"],
        `artifact '${artifact.name}' is a raw artifact and cannot be saved`,
      ),
    );
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    if (!artifact.raw) {
      throw new SkiffError(ART_CODES["SKF-ART-005"], `artifact '${artifact.name}' has no raw data`);
    }
    await mkdir(path.dirname(localPath), { recursive: true });
    await writeFile(localPath, artifact.raw.data ?? "");
  }

  exists(artifact: Artifact): Promise<boolean> {
    return Promise.resolve(artifact.raw !== undefined);
  }

  delete(_artifact: Artifact): Promise<void> {
    return Promise.resolve();
  }
}
