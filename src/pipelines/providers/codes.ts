import { defineErrorCodes } from "../../../runtime/errors/index.js";

/** Errors of reading a CI provider's environment into the Git context (`skiff ci`). */
export const CI_CODES = defineErrorCodes({
  "SKF-CI-001": {
    title: "Unknown CI provider",
    hint: "skiff ci reads GitLab CI (GITLAB_CI) or Jenkins (JENKINS_URL) variables; pass --provider gitlab or --provider jenkins, or use the GitHub Action on GitHub.",
  },
  "SKF-CI-002": {
    title: "CI variable missing or malformed",
    hint: "The provider sets these variables for every job; when running by hand, set them (see docs/gitlab.md and docs/jenkins.md).",
  },
});
