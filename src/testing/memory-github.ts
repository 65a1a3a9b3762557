import {
  GitHubRequestError,
  type CheckAnnotation,
  type CheckRunFields,
  type CreateCheckRunRequest,
  type GitHubClient,
  type PullRequestInfo,
} from "../reporters/github-checks/client.js";

/** A check run as the in-memory fake holds it: the last state, and every annotation it received. */
export interface MemoryCheckRun extends CreateCheckRunRequest {
  id: number;
  /** Every annotation received, in order: GitHub appends the annotations of each request. */
  annotations: CheckAnnotation[];
  annotationsReceived: number;
}

/** A scripted answer: the next matching call fails with this error instead of succeeding. */
export interface ScriptedFailure {
  method?: keyof GitHubClient;
  error: GitHubRequestError;
}

/**
 * An in-memory {@link GitHubClient} for logic tests: keeps check runs, records calls, and fails calls on demand.
 * Integration tests use the OpenAPI-validating HTTP fake (`fake-github.ts`) instead.
 */
export class MemoryGitHub implements GitHubClient {
  readonly checkRuns = new Map<number, MemoryCheckRun>();
  readonly calls: { method: keyof GitHubClient; args: unknown[] }[] = [];
  readonly failures: ScriptedFailure[] = [];
  /** Fail every call of these methods with this error (a read-only token answers 403 to every write). */
  failAlways: ScriptedFailure | undefined;
  pullRequests = new Map<number, PullRequestInfo & { files: string[] }>();
  /** Called before each call answers (tests observe timing with it). */
  onCall?: (method: keyof GitHubClient) => void;
  private nextId = 1000;

  private enter(method: keyof GitHubClient, args: unknown[]): void {
    this.calls.push({ method, args });
    this.onCall?.(method);
    if (this.failAlways && (this.failAlways.method === undefined || this.failAlways.method === method))
      throw this.failAlways.error;
    const i = this.failures.findIndex((f) => f.method === undefined || f.method === method);
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
  }

  async createCheckRun(request: CreateCheckRunRequest): Promise<{ id: number }> {
    await Promise.resolve();
    this.enter("createCheckRun", [request]);
    const id = this.nextId++;
    this.checkRuns.set(id, {
      ...structuredClone(request),
      id,
      annotations: structuredClone(request.output?.annotations ?? []),
      annotationsReceived: request.output?.annotations?.length ?? 0,
    });
    return { id };
  }

  async updateCheckRun(id: number, fields: CheckRunFields): Promise<void> {
    await Promise.resolve();
    this.enter("updateCheckRun", [id, fields]);
    const run = this.checkRuns.get(id);
    if (!run) throw new GitHubRequestError(404, "Not Found");
    const { output, ...rest } = structuredClone(fields);
    Object.assign(run, rest);
    if (output) {
      run.annotationsReceived += output.annotations?.length ?? 0;
      run.annotations.push(...(output.annotations ?? []));
      run.output = output;
    }
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    await Promise.resolve();
    this.enter("getPullRequest", [number]);
    const pr = this.pullRequests.get(number);
    if (!pr) throw new GitHubRequestError(404, "Not Found");
    const { files: _files, ...info } = pr;
    return info;
  }

  async listPullRequestFiles(number: number): Promise<string[]> {
    await Promise.resolve();
    this.enter("listPullRequestFiles", [number]);
    const pr = this.pullRequests.get(number);
    if (!pr) throw new GitHubRequestError(404, "Not Found");
    return [...pr.files];
  }

  /** Commit messages by SHA. */
  commits = new Map<string, string>();

  async getCommitMessage(sha: string): Promise<string> {
    await Promise.resolve();
    this.enter("getCommitMessage", [sha]);
    const message = this.commits.get(sha);
    if (message === undefined) throw new GitHubRequestError(404, "Not Found");
    return message;
  }

  /** Check runs by name. */
  byName(name: string): MemoryCheckRun | undefined {
    return [...this.checkRuns.values()].find((r) => r.name === name);
  }
}

export type { GitHubClient };
