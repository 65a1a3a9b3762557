import type { CommitablePipelineStatus } from "@gitbeaker/rest";
import { Gitlab, GitbeakerRequestError, GitbeakerRetryError, GitbeakerTimeoutError } from "@gitbeaker/rest";
import {
  GitLabRequestError,
  type CommitStatusFields,
  type GitLabClient,
  type MergeRequestNote,
} from "./client.js";

export interface GitbeakerClientOptions {
  /** The REST API's base URL, e.g. `https://gitlab.com/api/v4` (`CI_API_V4_URL`). */
  apiUrl: string;
  token: string;
  /** The project's id or `group/name` path. */
  projectId: string | number;
  /** Per-request timeout (ms; default 30 s). */
  timeoutMs?: number;
}

/** {@link GitLabClient} through `@gitbeaker/rest`, with its errors turned into {@link GitLabRequestError}. */
export function createGitbeakerClient(options: GitbeakerClientOptions): GitLabClient {
  // Gitbeaker takes the host and adds /api/v4 itself.
  const host = options.apiUrl.replace(/\/api\/v4\/?$/, "");
  const api = new Gitlab({ host, token: options.token, queryTimeout: options.timeoutMs ?? 30_000 });
  const project = options.projectId;
  return {
    async setCommitStatus(sha: string, f: CommitStatusFields): Promise<void> {
      await call(() =>
        // Gitbeaker's type predates the `skipped` state GitLab's API documents today.
        api.Commits.editStatus(project, sha, f.state as CommitablePipelineStatus, {
          name: f.name,
          ...(f.pipeline_id !== undefined ? { pipelineId: f.pipeline_id } : {}),
          ...(f.ref ? { ref: f.ref } : {}),
          ...(f.target_url ? { targetUrl: f.target_url } : {}),
          ...(f.description ? { description: f.description } : {}),
        }),
      );
    },
    async listMergeRequestNotes(iid: number): Promise<MergeRequestNote[]> {
      const notes = await call(() => api.MergeRequestNotes.all(project, iid, { perPage: 100 }));
      return notes.map((n) => ({ id: Number(n.id), body: String(n.body ?? "") }));
    },
    async createMergeRequestNote(iid: number, body: string): Promise<{ id: number }> {
      const note = await call(() => api.MergeRequestNotes.create(project, iid, body));
      return { id: Number(note.id) };
    },
    async updateMergeRequestNote(iid: number, noteId: number, body: string): Promise<void> {
      await call(() => api.MergeRequestNotes.edit(project, iid, noteId, { body }));
    },
  };
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toRequestError(e);
  }
}

/** Reads the status and `Retry-After` of a Gitbeaker failure. */
function toRequestError(e: unknown): GitLabRequestError {
  if (e instanceof GitbeakerRequestError) {
    const response = e.cause?.response;
    const status = response?.status ?? 0;
    const header = response?.headers.get("retry-after");
    // Number(null) is 0: a missing header must not read as "retry now".
    const retryAfter = header ? Number(header) : NaN;
    return new GitLabRequestError(status, e.cause?.description || e.message, {
      cause: e,
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    });
  }
  // Gitbeaker retries 429 and 502 itself a few times, quickly; then it is GitLab being unavailable.
  if (e instanceof GitbeakerRetryError)
    return new GitLabRequestError(/429/.test(e.message) ? 429 : 502, e.message, { cause: e });
  if (e instanceof GitbeakerTimeoutError) return new GitLabRequestError(0, e.message, { cause: e });
  return new GitLabRequestError(0, (e as Error)?.message ?? String(e), { cause: e });
}
