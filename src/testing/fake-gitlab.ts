import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Ajv, type ValidateFunction } from "ajv";

/**
 * A local GitLab REST API (v4) for integration tests: the few endpoints Skiff's GitLab reporter calls. Every
 * request is checked against the shape GitLab documents for it (schemas below, each citing its docs page)
 * and against the token; answers have GitLab's shape. Tests script failures (401, 403, 429, 5xx) and read
 * back what the client sent.
 */

/** The operations the fake serves. */
export type GitLabOperation = "statuses/create" | "notes/list" | "notes/create" | "notes/update";

/** A request as the fake saw it. */
export interface RecordedGitLabRequest {
  operation: GitLabOperation | undefined;
  method: string;
  path: string;
  body: unknown;
  status: number;
}

/** A scripted answer for the next `times` requests matching `operation` (all operations when unset). */
export interface ScriptedGitLabResponse {
  operation?: GitLabOperation;
  status: number;
  headers?: Record<string, string>;
  message?: string;
  /** Default 1; `Infinity` for every request. */
  times?: number;
}

/** A commit status as the fake keeps it: the latest of each name on each commit. */
export interface FakeCommitStatus {
  id: number;
  sha: string;
  name: string;
  status: string;
  ref: string | null;
  pipeline_id: number | null;
  target_url: string | null;
  description: string | null;
  /** Every state the status went through, in order. */
  history: string[];
}

export interface FakeNote {
  id: number;
  merge_request_iid: number;
  body: string;
  created_at: string;
  updated_at: string;
}

export interface FakeGitLabOptions {
  /** The project's numeric id; `group/name` paths (URL-encoded) are accepted as well. */
  projectId?: number;
  projectPath?: string;
  /** The token GitLab accepts (`PRIVATE-TOKEN` or `Authorization: Bearer`). */
  token?: string;
  /** Merge requests that exist (their iids). */
  mergeRequests?: number[];
}

export interface FakeGitLab {
  /** The API's base URL, `http://127.0.0.1:<port>/api/v4`. */
  readonly url: string;
  readonly requests: RecordedGitLabRequest[];
  /** Requests refused because they did not match the documented shape, with the reason. */
  readonly invalid: { path: string; errors: string }[];
  readonly statuses: FakeCommitStatus[];
  readonly notes: FakeNote[];
  script(response: ScriptedGitLabResponse): void;
  close(): Promise<void>;
}

const STATE = ["pending", "running", "success", "failed", "canceled", "skipped"];

/*
 * POST /projects/:id/statuses/:sha
 * https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit
 * state (required): pending, running, success, failed, canceled, skipped; ref; name or context (default
 * `default`); target_url; description; coverage (float); pipeline_id (integer).
 */
const STATUS_SCHEMA = {
  type: "object",
  required: ["state"],
  additionalProperties: false,
  properties: {
    id: { type: ["string", "integer"] },
    sha: { type: "string" },
    state: { enum: STATE },
    ref: { type: "string", minLength: 1 },
    name: { type: "string", minLength: 1, maxLength: 255 },
    context: { type: "string", minLength: 1, maxLength: 255 },
    target_url: { type: "string", pattern: "^https?://", maxLength: 255 },
    description: { type: "string", maxLength: 255 },
    coverage: { type: "number" },
    pipeline_id: { type: "integer", minimum: 1 },
  },
} as const;

/*
 * POST /projects/:id/merge_requests/:merge_request_iid/notes (body required, max 1,000,000 characters;
 * internal, created_at optional) and PUT .../notes/:note_id (body).
 * https://docs.gitlab.com/api/notes/#create-new-merge-request-note
 * https://docs.gitlab.com/api/notes/#modify-existing-merge-request-note
 */
const NOTE_SCHEMA = {
  type: "object",
  required: ["body"],
  additionalProperties: false,
  properties: {
    id: { type: ["string", "integer"] },
    merge_request_iid: { type: ["string", "integer"] },
    note_id: { type: ["string", "integer"] },
    body: { type: "string", minLength: 1, maxLength: 1_000_000 },
    internal: { type: "boolean" },
    created_at: { type: "string" },
  },
} as const;

/*
 * GET /projects/:id/merge_requests/:merge_request_iid/notes: sort, order_by, page, per_page (at most 100).
 * https://docs.gitlab.com/api/notes/#list-all-merge-request-notes
 * https://docs.gitlab.com/api/rest/#offset-based-pagination
 */
const LIST_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    sort: { enum: ["asc", "desc"] },
    order_by: { enum: ["created_at", "updated_at"] },
    page: { type: "string", pattern: "^[1-9][0-9]*$" },
    per_page: { type: "string", pattern: "^([1-9]|[1-9][0-9]|100)$" },
    pagination: { enum: ["offset"] },
  },
} as const;

/** Starts the fake on a free local port. */
export async function startFakeGitLab(options: FakeGitLabOptions = {}): Promise<FakeGitLab> {
  const projectId = options.projectId ?? 42;
  const projectPath = options.projectPath ?? "group/project";
  const token = options.token ?? "glpat-fake-token";
  const mergeRequests = new Set(options.mergeRequests ?? [1]);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators: Record<string, ValidateFunction> = {
    status: ajv.compile(STATUS_SCHEMA),
    note: ajv.compile(NOTE_SCHEMA),
    list: ajv.compile(LIST_SCHEMA),
  };
  const requests: RecordedGitLabRequest[] = [];
  const invalid: { path: string; errors: string }[] = [];
  const statuses: FakeCommitStatus[] = [];
  const notes: FakeNote[] = [];
  const scripted: ScriptedGitLabResponse[] = [];
  let nextId = 1000;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const raw = await readBody(req);
    let body: unknown = undefined;
    if (raw !== "") {
      try {
        body = (req.headers["content-type"] ?? "").includes("application/json")
          ? JSON.parse(raw)
          : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        body = raw;
      }
    }
    const route = matchRoute(req.method ?? "GET", url.pathname, projectId, projectPath);
    const record: RecordedGitLabRequest = {
      operation: route?.operation,
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      body,
      status: 0,
    };
    requests.push(record);
    const answer = (status: number, payload: unknown, headers?: Record<string, string>) => {
      record.status = status;
      send(res, status, payload, headers);
    };
    if (!route) return answer(404, { message: "404 Not Found" });

    const given = req.headers["private-token"] ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (given !== token) return answer(401, { message: "401 Unauthorized" });

    const script = scripted.find((s) => s.operation === undefined || s.operation === route.operation);
    if (script) {
      script.times = (script.times ?? 1) - 1;
      if (script.times <= 0) scripted.splice(scripted.indexOf(script), 1);
      return answer(
        script.status,
        { message: script.message ?? `${script.status} scripted` },
        script.headers,
      );
    }

    const refuse = (errors: string) => {
      invalid.push({ path: url.pathname, errors });
      answer(400, { message: errors });
    };
    const check = (validator: ValidateFunction, value: unknown): boolean => {
      if (validator(value)) return true;
      refuse(ajv.errorsText(validator.errors));
      return false;
    };

    switch (route.operation) {
      case "statuses/create": {
        const fields = { ...Object.fromEntries(url.searchParams), ...((body as object) ?? {}) } as Record<
          string,
          unknown
        >;
        if (typeof fields.pipeline_id === "string") fields.pipeline_id = Number(fields.pipeline_id);
        if (!check(validators.status!, fields)) return;
        const sha = route.params.sha!;
        if (!/^[0-9a-f]{7,64}$/.test(sha)) return answer(404, { message: "404 Commit Not Found" });
        const name = String(fields.name ?? fields.context ?? "default");
        const pipelineId = typeof fields.pipeline_id === "number" ? fields.pipeline_id : null;
        let status = statuses.find((s) => s.sha === sha && s.name === name && s.pipeline_id === pipelineId);
        const state = String(fields.state);
        if (status && (status.status === state || !canTransition(status.status, state)))
          // GitLab's state machine refuses these (e.g. "Cannot transition status via :run from :running").
          return answer(400, { message: `Cannot transition status via :${state} from :${status.status}` });
        if (!status) {
          status = {
            id: nextId++,
            sha,
            name,
            status: state,
            ref: null,
            pipeline_id: pipelineId,
            target_url: null,
            description: null,
            history: [],
          };
          statuses.push(status);
        }
        status.status = state;
        status.history.push(state);
        status.ref = typeof fields.ref === "string" ? fields.ref : status.ref;
        status.target_url = typeof fields.target_url === "string" ? fields.target_url : status.target_url;
        status.description = typeof fields.description === "string" ? fields.description : status.description;
        return answer(201, {
          id: status.id,
          sha,
          ref: status.ref,
          status: status.status,
          name,
          target_url: status.target_url,
          description: status.description,
          created_at: new Date().toISOString(),
          started_at: null,
          finished_at: null,
          allow_failure: false,
          coverage: null,
          pipeline_id: status.pipeline_id,
          author: { id: 1, username: "skiff-bot", name: "Skiff", state: "active" },
        });
      }
      case "notes/list": {
        if (!check(validators.list!, Object.fromEntries(url.searchParams))) return;
        const iid = Number(route.params.iid);
        if (!mergeRequests.has(iid)) return answer(404, { message: "404 Merge Request Not Found" });
        const perPage = Number(url.searchParams.get("per_page") ?? 20);
        const page = Number(url.searchParams.get("page") ?? 1);
        const all = notes.filter((n) => n.merge_request_iid === iid);
        const pages = Math.max(1, Math.ceil(all.length / perPage));
        return answer(200, all.slice((page - 1) * perPage, page * perPage).map(noteJson), {
          "x-page": String(page),
          "x-per-page": String(perPage),
          "x-total": String(all.length),
          "x-total-pages": String(pages),
          "x-next-page": page < pages ? String(page + 1) : "",
          "x-prev-page": page > 1 ? String(page - 1) : "",
        });
      }
      case "notes/create":
      case "notes/update": {
        if (!check(validators.note!, body ?? {})) return;
        const iid = Number(route.params.iid);
        if (!mergeRequests.has(iid)) return answer(404, { message: "404 Merge Request Not Found" });
        const now = new Date().toISOString();
        const text = String((body as { body: string }).body);
        if (route.operation === "notes/create") {
          const note: FakeNote = {
            id: nextId++,
            merge_request_iid: iid,
            body: text,
            created_at: now,
            updated_at: now,
          };
          notes.push(note);
          return answer(201, noteJson(note));
        }
        const note = notes.find((n) => n.id === Number(route.params.note) && n.merge_request_iid === iid);
        if (!note) return answer(404, { message: "404 Note Not Found" });
        note.body = text;
        note.updated_at = now;
        return answer(200, noteJson(note));
      }
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, { message: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v4`,
    requests,
    invalid,
    statuses,
    notes,
    script: (r) => scripted.push({ ...r }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function noteJson(n: FakeNote) {
  return {
    id: n.id,
    type: null,
    body: n.body,
    attachment: null,
    author: { id: 1, username: "skiff-bot", name: "Skiff", state: "active" },
    created_at: n.created_at,
    updated_at: n.updated_at,
    system: false,
    noteable_id: 7000 + n.merge_request_iid,
    noteable_type: "MergeRequest",
    noteable_iid: n.merge_request_iid,
    resolvable: false,
    confidential: false,
    internal: false,
  };
}

/** GitLab's commit-status transitions: a finished status may start again (a retried job), not repeat. */
function canTransition(from: string, to: string): boolean {
  if (from === to) return false;
  if (from === "running" && to === "pending") return false;
  return true;
}

function matchRoute(
  method: string,
  path: string,
  projectId: number,
  projectPath: string,
): { operation: GitLabOperation; params: Record<string, string> } | undefined {
  const m = /^\/api\/v4\/projects\/([^/]+)\/(.*)$/.exec(path);
  if (!m) return undefined;
  const project = decodeURIComponent(m[1]!);
  if (project !== String(projectId) && project !== projectPath) return undefined;
  const rest = m[2]!;
  let r: RegExpExecArray | null;
  if (method === "POST" && (r = /^statuses\/([^/]+)$/.exec(rest)))
    return { operation: "statuses/create", params: { sha: r[1]! } };
  if ((r = /^merge_requests\/(\d+)\/notes$/.exec(rest))) {
    if (method === "GET") return { operation: "notes/list", params: { iid: r[1]! } };
    if (method === "POST") return { operation: "notes/create", params: { iid: r[1]! } };
  }
  if (method === "PUT" && (r = /^merge_requests\/(\d+)\/notes\/(\d+)$/.exec(rest)))
    return { operation: "notes/update", params: { iid: r[1]!, note: r[2]! } };
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.on("data", (c: Buffer) => (s += c.toString()));
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}
