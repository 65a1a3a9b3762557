import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Webhooks } from "@octokit/webhooks";
import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { ServerWebhookConfig, SkiffConfig } from "../config/index.js";
import type { GitContext } from "../pipelines/git-context.js";
import { compileRunnable, selectForEvent } from "../run/select.js";
import { EVENT_CODES } from "./event-codes.js";
import { startCompiled } from "./events.js";
import { ApiError, GRPC, readRawBody, type Route, type RouteContext } from "./http.js";
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

/** Resolves a webhook's secret; `SKF-EVT-003` naming the setting that is missing. */
export async function webhookSecret(
  door: "github" | "gitlab",
  settings: ServerWebhookConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  let secret = settings.webhookSecret;
  if (settings.webhookSecretFile)
    secret = await readFile(settings.webhookSecretFile, "utf8")
      .then((s) => s.trim())
      .catch((e: NodeJS.ErrnoException) => {
        throw new SkiffError(
          EVENT_CODES["SKF-EVT-003"],
          `server.${door}.webhookSecretFile ${settings.webhookSecretFile} cannot be read: ${e.code ?? e.message}`,
          { position: { file: settings.webhookSecretFile! }, path: `server.${door}.webhookSecretFile` },
        );
      });
  if (settings.webhookSecretEnv) secret = env[settings.webhookSecretEnv];
  if (!secret)
    throw new SkiffError(
      EVENT_CODES["SKF-EVT-003"],
      settings.webhookSecretEnv
        ? `server.${door}.webhookSecretEnv ${settings.webhookSecretEnv} is not set`
        : `server.${door}'s webhook secret is empty`,
      { path: `server.${door}` },
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

/** GitLab's `X-Gitlab-Event` values the webhook runs pipelines for, as the Git context's event names. */
const GITLAB_HOOKS: Readonly<Record<string, string>> = {
  "Push Hook": "push",
  "Merge Request Hook": "pull_request",
};

/** The parts of GitLab's push and merge request hooks that make the Git context. */
interface GitLabPayload {
  ref?: string;
  after?: string;
  checkout_sha?: string | null;
  user_username?: string;
  user?: { username?: string };
  project?: { path_with_namespace?: string };
  commits?: { id?: string; message?: string; added?: string[]; modified?: string[]; removed?: string[] }[];
  object_attributes?: {
    iid?: number;
    action?: string;
    source_branch?: string;
    target_branch?: string;
    last_commit?: { id?: string; message?: string };
  };
}

/** The Git context of a GitLab push or merge request hook (merge request files unknown: path filters match). */
export function gitLabContext(event: string, payload: GitLabPayload): GitContext {
  const ref = payload.ref ?? "";
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : "";
  const ctx: GitContext = {
    event,
    repository: payload.project?.path_with_namespace ?? "",
    sha: payload.checkout_sha ?? payload.after ?? "",
    ref,
    branch,
    targetBranch: branch,
    actor: payload.user_username ?? payload.user?.username ?? "",
  };
  const mr = payload.object_attributes;
  if (event === "pull_request" && mr) {
    if (mr.action) ctx.action = mr.action;
    ctx.sha = mr.last_commit?.id ?? "";
    if (mr.last_commit?.message) ctx.headCommitMessage = mr.last_commit.message;
    if (mr.iid !== undefined) {
      ctx.pullRequest = mr.iid;
      ctx.ref = `refs/merge-requests/${mr.iid}/head`;
    }
    ctx.branch = mr.source_branch ?? "";
    ctx.targetBranch = mr.target_branch ?? "";
  } else {
    const head = payload.commits?.find((c) => c.id === ctx.sha) ?? payload.commits?.at(-1);
    if (head?.message) ctx.headCommitMessage = head.message;
    const files = new Set<string>();
    for (const c of payload.commits ?? [])
      for (const f of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) files.add(f);
    if (files.size > 0) ctx.changedFiles = [...files].sort();
  }
  return ctx;
}

/** Compares a token with the secret by digest in constant time: a wrong one tells nothing of the right one. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (v: string) => createHash("sha256").update(v).digest();
  return timingSafeEqual(digest(given), digest(secret));
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
  settings: ServerWebhookConfig,
  context: GitContext,
): Promise<unknown> {
  const { event } = context;
  const selection = await selectForEvent({
    context,
    workspace: settings.checkout,
    pipelines: settings.pipelines,
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
            workspace: settings.checkout,
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

/** A webhook's settings and body, or 404 when the config does not set the door up. */
async function delivery<T>(
  api: WebhookApi,
  door: "github" | "gitlab",
  ctx: RouteContext,
  authentic: (settings: ServerWebhookConfig, body: string) => Promise<boolean>,
  header: string,
): Promise<{ settings: ServerWebhookConfig; payload: T }> {
  const settings = api.config.server?.[door];
  if (!settings)
    throw new ApiError(
      GRPC.NotFound,
      `the ${door} webhook is not configured: set server.${door} in the config`,
    );
  const body = (await readRawBody(ctx.req)).toString("utf8");
  if (!(await authentic(settings, body)))
    throw new ApiError(GRPC.Unauthenticated, `${header} does not match server.${door}'s webhook secret`);
  try {
    return { settings, payload: JSON.parse(body) as T };
  } catch (e) {
    throw new SkiffError("SKF-SRV-002", `the delivery is not JSON: ${(e as Error).message}`);
  }
}

const headerOf = (ctx: RouteContext, name: string) => {
  const v = ctx.req.headers[name];
  return typeof v === "string" ? v : undefined;
};

const ignored = (event: string) => ({
  event,
  workflows: [],
  ignored: `no pipelines run on ${event || "an unnamed event"}`,
});

/**
 * `POST /api/v1/github/webhook`: GitHub deliveries signed with `server.github`'s secret, and
 * `POST /api/v1/gitlab/webhook`: GitLab hooks carrying `server.gitlab`'s secret token. A missing or wrong
 * signature or token is 401 and nothing runs; pushes and pull (merge) requests run the pipelines they select.
 */
export function webhookRoutes(api: WebhookApi): Route[] {
  return [
    {
      method: "POST",
      path: "/api/v1/github/webhook",
      access: "signed",
      handler: async (ctx) => {
        const { settings, payload } = await delivery<GitHubPayload>(
          api,
          "github",
          ctx,
          async (s, body) =>
            verified(await webhookSecret("github", s), body, headerOf(ctx, "x-hub-signature-256")),
          "X-Hub-Signature-256",
        );
        const event = headerOf(ctx, "x-github-event") ?? "";
        if (!RUNS_ON.has(event) || (event === "push" && payload.deleted)) return ignored(event);
        return runDelivery(api, settings, gitHubContext(event, payload));
      },
    },
    {
      method: "POST",
      path: "/api/v1/gitlab/webhook",
      access: "signed",
      handler: async (ctx) => {
        const { settings, payload } = await delivery<GitLabPayload>(
          api,
          "gitlab",
          ctx,
          async (s) => {
            const token = headerOf(ctx, "x-gitlab-token");
            return token !== undefined && sameSecret(token, await webhookSecret("gitlab", s));
          },
          "X-Gitlab-Token",
        );
        const hook = headerOf(ctx, "x-gitlab-event") ?? "";
        const event = GITLAB_HOOKS[hook];
        if (!event || /^0+$/.test(payload.after ?? "")) return ignored(hook);
        return runDelivery(api, settings, gitLabContext(event, payload));
      },
    },
  ];
}
