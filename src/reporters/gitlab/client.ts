/**
 * The small part of GitLab's REST API Skiff uses. The reporter only sees this interface; the
 * `@gitbeaker/rest` implementation lives in `gitbeaker.ts` and a validating fake server in
 * `src/testing/fake-gitlab.ts`.
 */

/** A commit status's state (https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit). */
export type CommitStatusState = "pending" | "running" | "success" | "failed" | "canceled" | "skipped";

/** What `POST /projects/:id/statuses/:sha` takes beyond the state. */
export interface CommitStatusFields {
  state: CommitStatusState;
  /** The status's label; the same name updates the same status. */
  name: string;
  /** The pipeline the status is shown under (`CI_PIPELINE_ID`). */
  pipeline_id?: number;
  ref?: string;
  target_url?: string;
  description?: string;
}

export interface MergeRequestNote {
  id: number;
  body: string;
}

/** GitLab API calls the reporter makes. Every method rejects with {@link GitLabRequestError}. */
export interface GitLabClient {
  setCommitStatus(sha: string, fields: CommitStatusFields): Promise<void>;
  /** The merge request's notes (all pages). */
  listMergeRequestNotes(iid: number): Promise<MergeRequestNote[]>;
  createMergeRequestNote(iid: number, body: string): Promise<{ id: number }>;
  updateMergeRequestNote(iid: number, noteId: number, body: string): Promise<void>;
}

/** Thrown by a {@link GitLabClient} when GitLab answers with an error status or cannot be reached. */
export class GitLabRequestError extends Error {
  /** HTTP status; 0 when no answer came (network error, timeout). */
  readonly status: number;
  /** How long GitLab asked to wait (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GitLabRequestError";
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Worth another try later: rate limits, server errors, no answer. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
