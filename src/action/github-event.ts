import { readFile } from "node:fs/promises";
import { SkiffError } from "../../runtime/errors/index.js";
import type { GitContext } from "../pipelines/git-context.js";
import type { GitHubClient } from "../reporters/github-checks/client.js";
import { GH_CODES } from "../reporters/github-checks/codes.js";

/** The parts of GitHub's event payloads Skiff reads. */
interface EventPayload {
  after?: string;
  ref?: string;
  head_commit?: { message?: string; id?: string } | null;
  commits?: { added?: string[]; modified?: string[]; removed?: string[] }[];
  pull_request?: {
    number: number;
    head: { sha: string; ref: string; repo?: { full_name?: string } | null };
    base: { ref: string; repo?: { full_name?: string } };
  };
  issue?: { number: number; pull_request?: unknown };
  comment?: { body?: string };
  inputs?: Record<string, unknown>;
  sender?: { login?: string };
  /** The cron string of a `schedule` event. */
  schedule?: string;
}

/** What the GitHub event says, beyond the Git context: where checks go and whether the token can write. */
export interface GitHubEvent {
  context: GitContext;
  /** The pull request comes from a fork: its job token cannot create check runs. */
  fork: boolean;
  /** Notes for the log (e.g. the changed files could not be listed). */
  notes: string[];
}

/** GitHub lists at most this many commits in a push payload; past it the changed files are unknown. */
const PUSH_COMMITS_LISTED = 2048;

/**
 * Reads the Git context from a GitHub Actions job: `GITHUB_*` variables and the event payload file. Pull
 * request files and, for comments, the pull request itself come from the API; when the API refuses, path
 * filters match (the files are unknown) rather than skipping work.
 */
export async function readGitHubEvent(env: NodeJS.ProcessEnv, client: GitHubClient): Promise<GitHubEvent> {
  const need = (name: string): string => {
    const v = env[name];
    if (!v)
      throw new SkiffError(GH_CODES["SKF-GH-003"], `${name} is not set`, {
        hint: "Run the action inside a GitHub Actions job (GitHub sets GITHUB_* variables for every step).",
      });
    return v;
  };
  const event = need("GITHUB_EVENT_NAME");
  const repository = need("GITHUB_REPOSITORY");
  let payload: EventPayload = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as EventPayload;
    } catch (e) {
      throw new SkiffError(GH_CODES["SKF-GH-003"], `cannot read the event payload: ${(e as Error).message}`, {
        position: { file: env.GITHUB_EVENT_PATH },
      });
    }
  }
  const notes: string[] = [];
  const ref = env.GITHUB_REF ?? payload.ref ?? "";
  const refBranch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : "";
  const ctx: GitContext = {
    event,
    ...(typeof (payload as { action?: unknown }).action === "string"
      ? { action: (payload as { action: string }).action }
      : {}),
    repository,
    sha: need("GITHUB_SHA"),
    ref,
    branch: env.GITHUB_HEAD_REF || refBranch,
    targetBranch: env.GITHUB_BASE_REF || refBranch,
    actor: env.GITHUB_ACTOR ?? payload.sender?.login ?? "",
  };
  let fork = false;

  const pr = payload.pull_request;
  if (pr && (event === "pull_request" || event === "pull_request_target")) {
    // Checks belong on the head commit, not on the merge commit GITHUB_SHA names.
    ctx.sha = pr.head.sha;
    ctx.pullRequest = pr.number;
    ctx.branch = pr.head.ref;
    ctx.targetBranch = pr.base.ref;
    fork = (pr.head.repo?.full_name ?? repository) !== (pr.base.repo?.full_name ?? repository);
    ctx.changedFiles = await pullRequestFiles(client, pr.number, notes);
    try {
      ctx.headCommitMessage = await client.getCommitMessage(pr.head.sha);
    } catch (e) {
      notes.push(`cannot read the head commit (${(e as Error).message}), so [skip ci] is not looked for`);
    }
  } else if (event === "push") {
    ctx.headCommitMessage = payload.head_commit?.message ?? undefined;
    if (payload.after && /^[0-9a-f]{40}$/.test(payload.after) && !/^0+$/.test(payload.after))
      ctx.sha = payload.after;
    const commits = payload.commits;
    if (Array.isArray(commits) && commits.length > 0 && commits.length < PUSH_COMMITS_LISTED) {
      const files = new Set<string>();
      for (const c of commits)
        for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) files.add(f);
      ctx.changedFiles = [...files].sort();
    } else notes.push("the push lists no commits, so path filters match");
  } else if (event === "issue_comment") {
    ctx.comment = payload.comment?.body ?? "";
    const number = payload.issue?.number;
    if (payload.issue?.pull_request && number !== undefined) {
      ctx.pullRequest = number;
      try {
        const info = await client.getPullRequest(number);
        ctx.sha = info.headSha;
        ctx.branch = info.headRef;
        ctx.targetBranch = info.baseRef;
        fork = info.fork;
      } catch (e) {
        notes.push(`cannot read pull request #${number} (${(e as Error).message}); using ${ctx.sha}`);
      }
      ctx.changedFiles = await pullRequestFiles(client, number, notes);
    }
  } else if (event === "schedule") {
    if (typeof payload.schedule === "string") ctx.schedule = payload.schedule;
  } else if (event === "workflow_dispatch") {
    ctx.inputs = Object.fromEntries(
      Object.entries(payload.inputs ?? {}).map(([k, v]) => [
        k,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
  }
  if (ctx.headCommitMessage === undefined && payload.head_commit?.message)
    ctx.headCommitMessage = payload.head_commit.message;
  return { context: ctx, fork, notes };
}

async function pullRequestFiles(
  client: GitHubClient,
  number: number,
  notes: string[],
): Promise<string[] | undefined> {
  try {
    return await client.listPullRequestFiles(number);
  } catch (e) {
    notes.push(
      `cannot list the files of pull request #${number} (${(e as Error).message}), so path filters match`,
    );
    return undefined;
  }
}
