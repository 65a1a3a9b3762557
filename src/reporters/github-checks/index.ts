/**
 * GitHub check runs: one per workflow and one per leaf step, annotations on failed lines, and a fallback to
 * the job summary and workflow commands when GitHub cannot be written to.
 */
export { GH_CODES } from "./codes.js";
export {
  GitHubRequestError,
  rateLimitWait,
  type CheckAnnotation,
  type CheckConclusion,
  type CheckRunFields,
  type CheckRunOutput,
  type CheckStatus,
  type CreateCheckRunRequest,
  type GitHubClient,
  type PullRequestInfo,
} from "./client.js";
export { createOctokitClient, type OctokitClientOptions } from "./octokit.js";
export {
  ANNOTATIONS_PER_REQUEST,
  parseLogAnnotation,
  repoPath,
  stepFailureAnnotation,
  workflowCommand,
} from "./annotations.js";
export {
  conclusionOf,
  GITHUB_TEXT_LIMIT,
  leafSteps,
  maskSecrets,
  mermaidGraph,
  statusTable,
  truncateMarkdown,
} from "./markdown.js";
export {
  renderStepOutput,
  renderWorkflowBody,
  renderWorkflowOutput,
  stepCheckName,
  workflowCheckName,
  workflowTitle,
  type LogTail,
  type RenderContext,
} from "./outputs.js";
export {
  createGitHubChecksReporter,
  DEFAULT_LIMITS,
  type ChecksMode,
  type GitHubChecksReporter,
  type GitHubChecksReporterOptions,
  type OpenCheck,
  type ReportingLimits,
} from "./reporter.js";
