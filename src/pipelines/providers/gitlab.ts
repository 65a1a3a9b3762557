import { SkiffError } from "../../../runtime/errors/index.js";
import type { GitContext } from "../git-context.js";
import { CI_CODES } from "./codes.js";
import { gitChangedFiles, isNullSha, type ChangedFilesReader } from "./diff.js";
import { checkout, fullRef, requestNumber, type CiContext } from "./types.js";

/**
 * GitLab's pipeline sources (`CI_PIPELINE_SOURCE`) as the `skiff.dev/on-event` names the Action uses, so a
 * pipeline's annotations mean the same thing on GitHub and GitLab. Sources not listed keep their own name.
 * https://docs.gitlab.com/ci/jobs/job_rules/#ci_pipeline_source-predefined-variable
 */
export const GITLAB_EVENTS: Readonly<Record<string, string>> = {
  push: "push",
  merge_request_event: "pull_request",
  external_pull_request_event: "pull_request",
  schedule: "schedule",
  web: "workflow_dispatch",
  trigger: "workflow_dispatch",
  api: "workflow_dispatch",
  pipeline: "workflow_dispatch",
  parent_pipeline: "workflow_dispatch",
  chat: "workflow_dispatch",
};

/**
 * Reads a GitLab CI job's predefined variables into the Git context: the event from `CI_PIPELINE_SOURCE`,
 * the merge request from `CI_MERGE_REQUEST_*`, the changed files from `git diff` against the merge
 * request's base (or, for pushes, the commit before the push).
 * https://docs.gitlab.com/ci/variables/predefined_variables/
 */
export async function readGitLabContext(
  env: NodeJS.ProcessEnv,
  options: { cwd: string; changedFiles?: ChangedFilesReader } = { cwd: process.cwd() },
): Promise<CiContext> {
  const need = (name: string): string => {
    const v = env[name];
    if (!v)
      throw new SkiffError(CI_CODES["SKF-CI-002"], `${name} is not set`, {
        hint: "GitLab sets it for every job; run skiff ci inside a GitLab CI job or set the variable.",
      });
    return v;
  };
  const source = need("CI_PIPELINE_SOURCE");
  const sha = need("CI_COMMIT_SHA");
  const notes: string[] = [];
  const diff = options.changedFiles ?? gitChangedFiles;
  const pullRequest = requestNumber("CI_MERGE_REQUEST_IID", env.CI_MERGE_REQUEST_IID);
  const branch =
    env.CI_COMMIT_BRANCH || env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_REF_NAME || "";
  const ref = fullRef(
    pullRequest !== undefined ? `refs/merge-requests/${pullRequest}/head` : undefined,
    env.CI_COMMIT_TAG,
    branch,
  );
  const context: GitContext = {
    event: GITLAB_EVENTS[source] ?? source,
    repository: env.CI_PROJECT_PATH ?? "",
    sha,
    ref,
    branch,
    targetBranch: env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME || branch,
    ...(pullRequest !== undefined ? { pullRequest } : {}),
    actor: env.GITLAB_USER_LOGIN ?? "",
    ...(env.CI_COMMIT_MESSAGE ? { headCommitMessage: env.CI_COMMIT_MESSAGE } : {}),
  };
  if (context.event === "pull_request") {
    const base = env.CI_MERGE_REQUEST_DIFF_BASE_SHA || env.CI_MERGE_REQUEST_TARGET_BRANCH_SHA;
    if (base) context.changedFiles = await diff(base, sha, options.cwd);
    if (context.changedFiles === undefined)
      notes.push("the merge request's changed files are not known (fetch its base), so path filters match");
  } else if (context.event === "push") {
    const before = env.CI_COMMIT_BEFORE_SHA;
    if (!isNullSha(before)) context.changedFiles = await diff(before!, sha, options.cwd);
    if (context.changedFiles === undefined)
      notes.push("the push's changed files are not known, so path filters match");
  }
  const projectId = env.CI_PROJECT_ID;
  const pipelineId = env.CI_PIPELINE_ID ? Number(env.CI_PIPELINE_ID) : undefined;
  return {
    provider: "gitlab",
    context,
    notes,
    ...(projectId ? { projectId } : {}),
    ...(pipelineId !== undefined && Number.isInteger(pipelineId) ? { pipelineId } : {}),
    ...(env.CI_JOB_URL ? { jobUrl: env.CI_JOB_URL } : {}),
    ...(env.CI_API_V4_URL ? { apiUrl: env.CI_API_V4_URL } : {}),
    workspace: checkout(env.CI_PROJECT_DIR, options.cwd),
  };
}
