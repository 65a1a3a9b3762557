/**
 * The small part of GitHub's REST API Skiff uses. The reporter and the Action only see this interface; the
 * Octokit implementation lives in `octokit.ts` and a scriptable fake server in `src/testing/fake-github.ts`.
 */

export type CheckStatus = "queued" | "in_progress" | "completed";
export type CheckConclusion =
  "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required";

/** One annotation on a file of the commit, as GitHub's checks API takes it. */
export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  /** At most 50 per request (GitHub's limit); more are sent by further updates. */
  annotations?: CheckAnnotation[];
}

export interface CheckRunFields {
  status?: CheckStatus;
  conclusion?: CheckConclusion;
  started_at?: string;
  completed_at?: string;
  external_id?: string;
  details_url?: string;
  output?: CheckRunOutput;
}

export interface CreateCheckRunRequest extends CheckRunFields {
  name: string;
  head_sha: string;
}

/** What a pull request tells beyond the event payload (used for comment events). */
export interface PullRequestInfo {
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  /** The head lives in another repository (its jobs get a read-only token). */
  fork: boolean;
}

/** GitHub's primary rate limit as its `x-ratelimit-*` headers state it after a request. */
export interface PrimaryRateLimit {
  limit: number;
  remaining: number;
  /** When the quota is renewed, ms since the epoch. */
  resetAt: number;
}

/** What a write tells beside its result: the primary rate limit, when GitHub sent its headers. */
export interface WriteResult {
  rateLimit?: PrimaryRateLimit;
}

/** GitHub API calls the reporter and the Action make. Every method rejects with {@link GitHubRequestError}. */
export interface GitHubClient {
  createCheckRun(request: CreateCheckRunRequest): Promise<{ id: number } & WriteResult>;
  updateCheckRun(id: number, fields: CheckRunFields): Promise<WriteResult | void>;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  /** The paths a pull request changes (GitHub lists at most 3000). */
  listPullRequestFiles(number: number): Promise<string[]>;
  /** A commit's message (pull-request events carry none, and `[skip ci]` is read from it). */
  getCommitMessage(sha: string): Promise<string>;
}

/** Thrown by a {@link GitHubClient} when GitHub answers with an error status or cannot be reached. */
export class GitHubRequestError extends Error {
  /** HTTP status; 0 when no answer came (network error). */
  readonly status: number;
  /** How long GitHub asked to wait (`Retry-After`, or the rate-limit reset), in ms. */
  readonly retryAfterMs: number | undefined;
  /** A primary or secondary rate limit, not a permission problem (both answer 403/429). */
  readonly rateLimited: boolean;

  constructor(
    status: number,
    message: string,
    options: { retryAfterMs?: number; rateLimited?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GitHubRequestError";
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimited = options.rateLimited ?? false;
  }
}

/**
 * Reads GitHub's rate-limit headers into a wait: `Retry-After` (seconds) first, else `x-ratelimit-reset`
 * (epoch seconds) when `x-ratelimit-remaining` is 0.
 */
export function rateLimitWait(
  headers: Record<string, string | number | undefined>,
  now: number,
): { retryAfterMs?: number; rateLimited: boolean } {
  const get = (k: string) => {
    const v = headers[k] ?? headers[k.toLowerCase()];
    return v === undefined ? undefined : String(v);
  };
  const retryAfter = get("retry-after");
  if (retryAfter !== undefined) {
    const s = Number(retryAfter);
    if (Number.isFinite(s)) return { retryAfterMs: Math.max(0, s * 1000), rateLimited: true };
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return { retryAfterMs: Math.max(0, at - now), rateLimited: true };
  }
  if (get("x-ratelimit-remaining") === "0") {
    const reset = Number(get("x-ratelimit-reset"));
    return {
      retryAfterMs: Number.isFinite(reset) ? Math.max(0, reset * 1000 - now) : undefined,
      rateLimited: true,
    };
  }
  return { rateLimited: false };
}

/** Reads `x-ratelimit-limit`, `-remaining` and `-reset` (epoch seconds); undefined when any is missing. */
export function primaryRateLimit(
  headers: Record<string, string | number | undefined>,
): PrimaryRateLimit | undefined {
  const get = (k: string) => Number(headers[k] ?? Number.NaN);
  const limit = get("x-ratelimit-limit");
  const remaining = get("x-ratelimit-remaining");
  const reset = get("x-ratelimit-reset");
  if (![limit, remaining, reset].every(Number.isFinite)) return undefined;
  return { limit, remaining, resetAt: reset * 1000 };
}
