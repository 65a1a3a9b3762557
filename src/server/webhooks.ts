import { readFile } from "node:fs/promises";
import { Webhooks } from "@octokit/webhooks";
import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { ServerGitHubConfig, SkiffConfig } from "../config/index.js";
import type { GitContext } from "../pipelines/git-context.js";
import { compileRunnable, selectForEvent } from "../run/select.js";
import { EVENT_CODES } from "./event-codes.js";
import { startCompiled } from "./events.js";
import { ApiError, GRPC, readRawBody, type Route } from "./http.js";
import type { WorkflowRunner } from "./runner.js";

/** What the webhook routes work on. */
export interface WebhookApi {
  config: SkiffConfig;
  store: Store;
  runner: WorkflowRunner;
  log: (line: string) => void;
}

/** The parts of GitHub's `push` and `pull_request` payloads that make the Git context. */
interface GitHubPayload {
  action?: string;
  ref?: string;
  after?: string;
  deleted?: boolean;
  repository?: { full_name?: string };
  sender?: { login?: string };
  head_commit?: { message?: string } | null;
  commits?: { added?: string[]; modified?: string[]; removed?: string[] }[];
  pull_request?: { number: number; head: { sha: string; ref: string }; base: { ref: string } };
}

/** The events the webhook runs pipelines for; others (`ping` included) are answered and ignored. */
const RUNS_ON = new Set(["push", "pull_request"]);

/** Resolves `server.github`'s secret; `SKF-EVT-003` naming the setting that is missing. */
export async function webhookSecret(
  github: ServerGitHubConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let secret = github.webhookSecret;
  if (github.webhookSecretFile)
    secret = await readFile(github.webhookSecretFile, "utf8")
      .then((s) => s.trim())
      .catch((e: NodeJS.ErrnoException) => {
        throw new SkiffError(
          EVENT_CODES["SKF-EVT-003"],
          `server.github.webhookSecretFile ${github.webhookSecretFile} cannot be read: ${e.code ?? e.message}`,
          { position: { file: github.webhookSecretFile! }, path: "server.github.webhookSecretFile" },
        );
      });
  if (github.webhookSecretEnv) secret = env[github.webhookSecretEnv];
  if (!secret)
    throw new SkiffError(
      EVENT_CODES["SKF-EVT-003"],
      github.webhookSecretEnv
        ? `server.github.webhookSecretEnv ${github.webhookSecretEnv} is not set`
        : "server.github's webhook secret is empty",
      { path: "server.github" },
    );
  return secret;
}

/**
 * The Git context of a GitHub delivery, as the Action reads it from its event file. The pull request's
 * files are not listed (no API call from here), so path filters match for pull requests.
 */
export function gitHubContext(event: string, payload: GitHubPayload): GitContext {
  const ref = payload.ref ?? "";
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : "";
  const ctx: GitContext = {
    event,
    ...(payload.action ? { action: payload.action } : {}),
    repository: payload.repository?.full_name ?? "",
    sha: payload.after ?? "",
    ref,
    branch,
    targetBranch: branch,
    actor: payload.sender?.login ?? "",
  };
  const pr = payload.pull_request;
  if (event === "pull_request" && pr) {
    ctx.sha = pr.head.sha;
    ctx.ref = `refs/pull/${pr.number}/merge`;
    ctx.pullRequest = pr.number;
    ctx.branch = pr.head.ref;
    ctx.targetBranch = pr.base.ref;
  } else if (event === "push") {
    if (payload.head_commit?.message) ctx.headCommitMessage = payload.head_commit.message;
    const files = new Set<string>();
    for (const c of payload.commits ?? [])
      for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) files.add(f);
    if (files.size > 0) ctx.changedFiles = [...files].sort();
  }
  return ctx;
}

/** Verifies a delivery's `X-Hub-Signature-256` (HMAC-SHA256 of the body) with the configured secret. */
async function verified(secret: string, body: string, signature: string | undefined): Promise<boolean> {
  if (!signature) return false;
  try {
    return await new Webhooks({ secret }).verify(body, signature);
  } catch {
    return false;
  }
}

/** Selects the delivery's pipelines from the checkout as the Action does, and starts each on this server. */
async function runDelivery(
  api: WebhookApi,
  github: ServerGitHubConfig,
  event: string,
  payload: GitHubPayload,
): Promise<unknown> {
  const context = gitHubContext(event, payload);
  const selection = await selectForEvent({
    context,
    workspace: github.checkout,
    pipelines: github.pipelines,
  });
  const started: string[] = [];
  const rejected = selection.rejected.map((r) => ({
    pipeline: r.pipeline,
    error: `${r.error.code} ${r.error.message}`,
  }));
  if (!selection.skipCi)
    for (const runnable of selection.runnables) {
      try {
        const compiled = compileRunnable(selection, runnable);
        started.push(
          await startCompiled(api, compiled, {
            // Compiled again from the stored workflow: the checkout may have moved on by then.
            inline: true,
            paths: [],
            file: runnable.file ?? runnable.name,
            docIndex: 0,
            parameters: runnable.compileOptions.parameters ?? {},
            workspace: github.checkout,
          }),
        );
      } catch (e) {
        const err = e instanceof SkiffError ? e : new SkiffError("SKF-SRV-002", (e as Error).message);
        rejected.push({ pipeline: runnable.name, error: `${err.code} ${err.message}` });
      }
    }
  for (const r of rejected) api.log(`webhook ${event} ${context.sha}: ${r.pipeline}: ${r.error}`);
  return {
    event,
    sha: context.sha,
    workflows: started,
    skipped: selection.skipped,
    rejected,
    ...(selection.skipCi ? { skipCi: selection.skipCi } : {}),
  };
}

/**
 * `POST /api/v1/github/webhook`: GitHub deliveries signed with `server.github`'s secret. A missing or wrong
 * signature is 401 and nothing runs; `push` and `pull_request` run the pipelines they select.
 */
export function webhookRoutes(api: WebhookApi): Route[] {
  return [
    {
      method: "POST",
      path: "/api/v1/github/webhook",
      access: "signed",
      handler: async (ctx) => {
        const github = api.config.server?.github;
        if (!github)
          throw new ApiError(
            GRPC.NotFound,
            "the GitHub webhook is not configured: set server.github in the config",
          );
        const body = (await readRawBody(ctx.req)).toString("utf8");
        const signature = ctx.req.headers["x-hub-signature-256"];
        if (
          !(await verified(
            await webhookSecret(github),
            body,
            typeof signature === "string" ? signature : undefined,
          ))
        )
          throw new ApiError(GRPC.Unauthenticated, "X-Hub-Signature-256 does not match the webhook secret");
        const event = String(ctx.req.headers["x-github-event"] ?? "");
        let payload: GitHubPayload;
        try {
          payload = JSON.parse(body) as GitHubPayload;
        } catch (e) {
          throw new SkiffError("SKF-SRV-002", `the delivery is not JSON: ${(e as Error).message}`);
        }
        if (!RUNS_ON.has(event) || (event === "push" && payload.deleted))
          return { event, workflows: [], ignored: `no pipelines run on ${event || "an unnamed event"}` };
        return runDelivery(api, github, event, payload);
      },
    },
  ];
}
