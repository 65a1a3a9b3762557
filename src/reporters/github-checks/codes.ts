import { defineErrorCodes } from "../../../runtime/errors/index.js";

/** Errors of GitHub reporting and of the Action. */
export const GH_CODES = defineErrorCodes({
  "SKF-GH-001": {
    title: "GitHub refused a reporting request",
    hint: "On pull requests from forks the job token is read-only; give the job `permissions: checks: write`, or set `checks: none`. Results are still in the job summary.",
  },
  "SKF-GH-002": {
    title: "GitHub API unavailable",
    hint: "GitHub answered with server errors or rate limits after every retry. The run went on; results are in the job summary.",
  },
  "SKF-GH-003": {
    title: "Not running in GitHub Actions",
    hint: "The action reads GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_EVENT_NAME and GITHUB_EVENT_PATH, which GitHub sets for every job.",
  },
  "SKF-GH-004": {
    title: "Bad action input",
    hint: "See docs/github-action.md for the inputs and their values.",
  },
  "SKF-GH-005": {
    title: "Pipeline failed",
    hint: "See the check runs and the job summary for the failed steps.",
  },
});
