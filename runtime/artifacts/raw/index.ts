import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import { RawArtifactDriver } from "./raw.js";

/** `raw` has nothing to configure. */
export type RawDriverOptions = Record<string, never>;

/** The driver for Argo's inline `raw` artifacts. */
export function createRawDriver(_options: RawDriverOptions = {}): ArtifactDriver {
  return new RawArtifactDriver();
}

export { RawArtifactDriver };
