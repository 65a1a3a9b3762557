import { SkiffError } from "../../../runtime/errors/index.js";
import type { GitContext } from "../git-context.js";
import { CI_CODES } from "./codes.js";
import { gitChangedFiles, isNullSha, type ChangedFilesReader } from "./diff.js";
import { checkout, fullRef, requestNumber, type CiContext } from "./types.js";

/**
 * Reads a Jenkins build's environment into the Git context. A multibranch build of a change request
 * (`CHANGE_ID`) is a `pull_request` onto `CHANGE_TARGET`; any other build is a `push` of `BRANCH_NAME`
 * (`GIT_BRANCH` for single-branch jobs). Jenkins does not say why a build started: the shared library passes
 * `schedule` for timer builds and `workflow_dispatch` for manual ones (`skiff ci --event`).
 * https://www.jenkins.io/doc/book/pipeline/multibranch/#additional-environment-variables
 */
export async function readJenkinsContext(
  env: NodeJS.ProcessEnv,
  options: { cwd: string; changedFiles?: ChangedFilesReader } = { cwd: process.cwd() },
): Promise<CiContext> {
  const sha = env.GIT_COMMIT;
  if (!sha)
    throw new SkiffError(CI_CODES["SKF-CI-002"], "GIT_COMMIT is not set", {
      hint: "Jenkins sets GIT_COMMIT once the job checks out with the Git plugin (checkout scm); run skiff after the checkout.",
    });
  const notes: string[] = [];
  const diff = options.changedFiles ?? gitChangedFiles;
  const pullRequest = requestNumber(
    "CHANGE_ID",
    env.CHANGE_ID,
    "CHANGE_ID is the pull (or merge) request's number in multibranch builds of change requests.",
  );
  const branch =
    env.CHANGE_BRANCH || env.BRANCH_NAME || (env.GIT_BRANCH ?? "").replace(/^(?:refs\/heads\/|origin\/)/, "");
  const ref = fullRef(
    pullRequest !== undefined ? `refs/pull/${pullRequest}/head` : undefined,
    env.TAG_NAME,
    branch,
  );
  const context: GitContext = {
    event: pullRequest !== undefined ? "pull_request" : "push",
    repository: repositoryOf(env.GIT_URL) ?? env.JOB_NAME?.split("/").slice(0, -1).join("/") ?? "",
    sha,
    ref,
    branch,
    targetBranch: env.CHANGE_TARGET || branch,
    ...(pullRequest !== undefined ? { pullRequest } : {}),
    actor: env.CHANGE_AUTHOR ?? env.BUILD_USER_ID ?? "",
  };
  if (pullRequest !== undefined) {
    if (env.CHANGE_TARGET) context.changedFiles = await diff(`origin/${env.CHANGE_TARGET}`, sha, options.cwd);
    if (context.changedFiles === undefined)
      notes.push(
        `the change's files are not known (fetch origin/${env.CHANGE_TARGET ?? "<target>"}), so path filters match`,
      );
  } else {
    const before = env.GIT_PREVIOUS_SUCCESSFUL_COMMIT || env.GIT_PREVIOUS_COMMIT;
    if (!isNullSha(before) && before !== sha) context.changedFiles = await diff(before!, sha, options.cwd);
    if (context.changedFiles === undefined)
      notes.push("the build's changed files are not known, so path filters match");
  }
  return {
    provider: "jenkins",
    context,
    notes,
    ...(env.BUILD_URL ? { jobUrl: env.BUILD_URL } : {}),
    workspace: checkout(env.WORKSPACE, options.cwd),
  };
}

/** `owner/name` of a Git remote URL (`https://host/owner/name.git`, `git@host:owner/name.git`). */
export function repositoryOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const m = /^(?:[a-z+]+:\/\/[^/]+\/|[^@/]+@[^:]+:)(.+?)(?:\.git)?\/?$/i.exec(url.trim());
  return m?.[1];
}
