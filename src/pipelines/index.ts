/**
 * Pipeline selection: find pipeline files in the checkout, match their triggers against a Git event, convert
 * the compact `kind: Pipeline` format, and compile what runs with the Git context as global parameters.
 */
export { PIPE_CODES } from "./codes.js";
export { GIT_PARAMETERS, gitParameters, skipMarker, type GitContext } from "./git-context.js";
export {
  DEFAULT_EVENTS,
  TRIGGER_ANNOTATIONS,
  matchTriggers,
  parseList,
  readTriggers,
  type TriggerDecision,
  type Triggers,
} from "./triggers.js";
export {
  DEFAULT_IMAGE,
  PIPELINE_LABEL,
  convertPipeline,
  isPipelineDocument,
  matrixProduct,
  type ConvertedPipeline,
  type Pipeline,
  type PipelineOn,
  type PipelineTask,
} from "./convert.js";
export {
  DEFAULT_PIPELINES_DIR,
  discoverPipelines,
  displayPath,
  parsePipelineFile,
  type DiscoveredPipelines,
} from "./discover.js";
export {
  compilePipeline,
  pipelineCompileOptions,
  pipelineName,
  selectPipelines,
  type CompilePipelineOptions,
  type PipelineCandidate,
  type PipelineSelection,
} from "./select.js";
export {
  CI_CODES,
  detectProvider,
  GITLAB_EVENTS,
  readCiContext,
  readGitLabContext,
  readJenkinsContext,
  type CiContext,
  type CiProvider,
} from "./providers/index.js";
