import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import { LocalArtifactDriver } from "./local.js";

export interface LocalDriverOptions {
  /** The repository's root folder; keys are relative to it. */
  root: string;
}

/** The driver for Skiff's embedded repository (`{ local: { key } }` artifacts). */
export function createLocalDriver(
  options: LocalDriverOptions,
): ArtifactDriver & { pathOf: LocalArtifactDriver["pathOf"] } {
  return new LocalArtifactDriver(options.root);
}

export { LocalArtifactDriver };
