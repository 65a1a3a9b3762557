import { defineErrorCodes } from "../../../runtime/errors/index.js";

/** Errors of GitLab reporting. None of them fails a run: reporting stops and the job log says why. */
export const GL_CODES = defineErrorCodes({
  "SKF-GL-001": {
    title: "GitLab refused a reporting request",
    hint: "The token needs the api scope and at least the Developer role (commit statuses, merge-request notes). Set the token variable the component names (SKIFF_GITLAB_TOKEN by default) to a project access token; CI_JOB_TOKEN cannot write statuses.",
  },
  "SKF-GL-002": {
    title: "GitLab API unavailable",
    hint: "GitLab answered with server errors or rate limits after every retry. The run went on; the JUnit and Code Quality reports are still written as job artifacts.",
  },
  "SKF-GL-003": {
    title: "GitLab reporting is not configured",
    hint: "--gitlab-report needs CI_PROJECT_ID, CI_API_V4_URL and a token in the variable named by --token-variable (default SKIFF_GITLAB_TOKEN).",
  },
});
