/**
 * What a Git event tells about a run. Entry points (the Action, webhooks, the CLI) fill it from their
 * provider; pipeline selection and the workflow's global parameters read only this.
 */
export interface GitContext {
  /** The provider's event name: push, pull_request, workflow_dispatch, schedule, issue_comment... */
  event: string;
  /** The event's activity (`opened`, `synchronize`, `created`...), when it has one. */
  action?: string;
  /** `owner/name`. */
  repository: string;
  /** The commit that runs and that statuses are reported on (the pull request's head commit). */
  sha: string;
  /** The full ref: `refs/heads/main`, `refs/tags/v1`, `refs/pull/7/merge`. */
  ref: string;
  /** The branch pushed, or the pull request's head branch. */
  branch: string;
  /** The branch a pull request targets; for pushes the branch pushed. */
  targetBranch: string;
  pullRequest?: number;
  actor: string;
  /** The head commit's message (for `[skip ci]`). */
  headCommitMessage?: string;
  /** The files the event changed; undefined when they are not known (path filters then match). */
  changedFiles?: string[];
  /** The comment's body, for comment events. */
  comment?: string;
  /** Inputs of a manually started run (`workflow_dispatch`). */
  inputs?: Record<string, string>;
  /**
   * The cron string that started a `schedule` event (GitHub's `github.event.schedule`): only the
   * CronWorkflows with that schedule run.
   */
  schedule?: string;
}

/** Names of the global parameters every run receives (`{{workflow.parameters.git-sha}}`...). */
export const GIT_PARAMETERS = [
  "git-repository",
  "git-sha",
  "git-ref",
  "git-branch",
  "git-target-branch",
  "git-event",
  "git-pull-request",
  "git-actor",
] as const;

/** The Git context as workflow parameters. Values the event does not have are empty strings. */
export function gitParameters(ctx: GitContext): Record<(typeof GIT_PARAMETERS)[number], string> {
  return {
    "git-repository": ctx.repository,
    "git-sha": ctx.sha,
    "git-ref": ctx.ref,
    "git-branch": ctx.branch,
    "git-target-branch": ctx.targetBranch,
    "git-event": ctx.event,
    "git-pull-request": ctx.pullRequest === undefined ? "" : String(ctx.pullRequest),
    "git-actor": ctx.actor,
  };
}

const SKIP_MARKERS = ["[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]"];

/**
 * The `[skip ci]` marker (and GitHub's other spellings) found in the head commit's message, if any. Only
 * pushes and pull requests honour it: a manual run or a `/retest` comment is an explicit request.
 */
export function skipMarker(ctx: GitContext): string | undefined {
  if (ctx.event !== "push" && ctx.event !== "pull_request" && ctx.event !== "pull_request_target")
    return undefined;
  const message = ctx.headCommitMessage?.toLowerCase() ?? "";
  return SKIP_MARKERS.find((m) => message.includes(m));
}
