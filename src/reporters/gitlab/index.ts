/**
 * GitLab reporting: a commit status per workflow and per step (grouped under the job's pipeline), a
 * merge-request note with the summary and graph (updated on re-runs), and the Code Quality and JUnit
 * reports as job artifacts.
 */
export { GL_CODES } from "./codes.js";
export {
  GitLabRequestError,
  type CommitStatusFields,
  type CommitStatusState,
  type GitLabClient,
  type MergeRequestNote,
} from "./client.js";
export { createGitbeakerClient, type GitbeakerClientOptions } from "./gitbeaker.js";
export { codeQualityReport, type CodeQualityIssue } from "./code-quality.js";
export { NOTE_LIMIT, noteMarker, renderMergeRequestNote, type NoteOptions } from "./note.js";
export {
  createGitLabReporter,
  DEFAULT_GITLAB_LIMITS,
  statusState,
  type GitLabLimits,
  type GitLabReporter,
  type GitLabReporterOptions,
} from "./reporter.js";
