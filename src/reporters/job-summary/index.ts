/** The job summary (`GITHUB_STEP_SUMMARY`): the same table and graph as the check runs, for every pipeline. */
export {
  appendJobSummary,
  JOB_SUMMARY_LIMIT,
  renderJobSummary,
  type JobSummaryOptions,
  type SummaryEntry,
} from "./summary.js";
export {
  createJobSummaryReporter,
  type JobSummaryReporter,
  type JobSummaryReporterOptions,
} from "./reporter.js";
