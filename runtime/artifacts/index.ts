/**
 * What the rest of Skiff uses of artifacts: executors place inputs and pack outputs with the archive helpers
 * and the repository helpers, `src/` builds a workflow's repository and collects garbage. Importers outside
 * `runtime/artifacts/` go through this file only, so the drivers' insides can change without them.
 */
export {
  archiveFileName,
  archiveFormatOf,
  assertSafeEntryName,
  DEFAULT_MAX_UNPACKED_BYTES,
  detectFormat,
  packTgz,
  packZip,
  placeArtifact,
  unpackTgz,
  unpackZip,
  type ArchiveFormat,
  type PlaceOptions,
  type UnpackOptions,
} from "./archive.js";
export {
  createLocalRepository,
  hasLocation,
  keyOnlyKey,
  LOCATION_FIELDS,
  locationOf,
  type LocalRepositoryOptions,
  type LocationField,
} from "./repository.js";
export {
  ARTIFACT_REPOSITORIES_CONFIGMAP,
  checkArtifactRepository,
  createS3Repository,
  createWorkflowArtifactRepository,
  DEFAULT_KEY_FORMAT,
  DEFAULT_REPOSITORY_ANNOTATION,
  renderKeyFormat,
  resolveArtifactRepository,
  unknownKeyFormatVariables,
  type ArtifactRepositoryConfig,
  type KeyFormatContext,
  type RepositoryIssue,
  type RepositorySource,
  type S3RepositoryConfig,
  type WorkflowRepositoryOptions,
} from "./default-repository.js";
export {
  ARTIFACT_GC_ERROR,
  artifactGCStrategy,
  collectArtifactGarbage,
  usesArtifactGC,
  type ArtifactGCOutcome,
  type ArtifactGCStrategy,
} from "./gc.js";
export { createRawDriver, type RawDriverOptions } from "./raw/index.js";
export { ART_CODES } from "./codes.js";
