import { Octokit } from "@octokit/rest";
import {
  GitHubRequestError,
  primaryRateLimit,
  rateLimitWait,
  type CheckRunFields,
  type CreateCheckRunRequest,
  type GitHubClient,
  type PullRequestInfo,
} from "./client.js";

export interface OctokitClientOptions {
  token: string;
  /** `https://api.github.com`, or `GITHUB_API_URL` on GitHub Enterprise Server. Always passed explicitly. */
  baseUrl: string;
  /** `owner/name`. */
  repository: string;
  userAgent?: string;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/** A {@link GitHubClient} over Octokit. Retries are the reporter's business, so Octokit makes one attempt. */
export function createOctokitClient(options: OctokitClientOptions): GitHubClient {
  const [owner, repo] = options.repository.split("/") as [string, string];
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    userAgent: options.userAgent ?? "skiff",
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { retries: 0 },
  });
  const timeout = options.timeoutMs ?? 30_000;
  const call = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await fn(AbortSignal.timeout(timeout));
    } catch (e) {
      throw toRequestError(e);
    }
  };
  return {
    createCheckRun: (request: CreateCheckRunRequest) =>
      call(async (signal) => {
        const res = await octokit.rest.checks.create({ owner, repo, ...request, request: { signal } });
        const rateLimit = primaryRateLimit(res.headers);
        return { id: res.data.id, ...(rateLimit ? { rateLimit } : {}) };
      }),
    updateCheckRun: (id: number, fields: CheckRunFields) =>
      call(async (signal) => {
        const res = await octokit.rest.checks.update({
          owner,
          repo,
          check_run_id: id,
          ...fields,
          request: { signal },
        });
        const rateLimit = primaryRateLimit(res.headers);
        return rateLimit ? { rateLimit } : {};
      }),
    getPullRequest: (number: number) =>
      call(async (signal): Promise<PullRequestInfo> => {
        const { data } = await octokit.rest.pulls.get({
          owner,
          repo,
          pull_number: number,
          request: { signal },
        });
        return {
          number,
          headSha: data.head.sha,
          headRef: data.head.ref,
          baseRef: data.base.ref,
          fork: data.head.repo?.full_name !== data.base.repo.full_name,
        };
      }),
    listPullRequestFiles: (number: number) =>
      call(async (signal) => {
        const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
          owner,
          repo,
          pull_number: number,
          per_page: 100,
          request: { signal },
        });
        return files.map((f) => f.filename);
      }),
    getCommitMessage: (sha: string) =>
      call(async (signal) => {
        const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: sha, request: { signal } });
        return data.commit.message;
      }),
  };
}

function toRequestError(e: unknown): GitHubRequestError {
  if (e instanceof GitHubRequestError) return e;
  const err = e as {
    status?: number;
    message?: string;
    response?: { headers?: Record<string, string | number | undefined>; data?: { message?: string } };
  };
  const status = typeof err.status === "number" ? err.status : 0;
  const headers = err.response?.headers ?? {};
  const wait = rateLimitWait(headers, Date.now());
  const apiMessage = err.response?.data?.message ?? err.message ?? String(e);
  const secondary = /secondary rate limit|abuse/i.test(apiMessage);
  return new GitHubRequestError(status, apiMessage, {
    retryAfterMs: wait.retryAfterMs,
    rateLimited: status === 429 || wait.rateLimited || secondary,
    cause: e,
  });
}
