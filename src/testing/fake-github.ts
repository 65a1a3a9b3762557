import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/**
 * A local GitHub REST API for integration tests. Every request is checked against GitHub's own OpenAPI
 * description (npm `@octokit/openapi`) and against the rules the description does not state (documented
 * limits and cross-field rules); every answer is generated from, and checked against, the response schema.
 * Tests script failures (403, 422, 5xx, rate limits) and read back what the client sent.
 */

/** The operations the fake serves: those Skiff's GitHub client calls. */
const OPERATIONS = [
  { id: "checks/create", method: "POST", path: "/repos/{owner}/{repo}/check-runs", status: 201 },
  {
    id: "checks/update",
    method: "PATCH",
    path: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    status: 200,
  },
  { id: "pulls/get", method: "GET", path: "/repos/{owner}/{repo}/pulls/{pull_number}", status: 200 },
  { id: "repos/get-commit", method: "GET", path: "/repos/{owner}/{repo}/commits/{ref}", status: 200 },
  {
    id: "pulls/list-files",
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    status: 200,
  },
] as const;

export type OperationId = (typeof OPERATIONS)[number]["id"];

/** A request as the fake saw it. */
export interface RecordedRequest {
  operation: OperationId | undefined;
  method: string;
  path: string;
  body: unknown;
  status: number;
  /** When it arrived, ms: the rate-limit simulation's clock, else the system clock. */
  at: number;
  /** Refused for a rate limit (primary or secondary, simulated or scripted). */
  rateLimited?: boolean;
}

/** A scripted answer for the next `times` requests matching `operation` (all operations when unset). */
export interface ScriptedResponse {
  operation?: OperationId;
  status: number;
  headers?: Record<string, string>;
  message?: string;
  /** Default 1; `Infinity` for every request. */
  times?: number;
}

/** A check run as the fake keeps it. */
export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  external_id: string | null;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: Record<string, unknown>[];
}

export interface FakePullRequest {
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  /** `owner/name` of the head repository; another repository than the base makes a fork pull request. */
  headRepository?: string;
  files: string[];
}

/**
 * GitHub's rate limits, simulated. Secondary limits: content-creating requests (the checks API's POST and
 * PATCH) in any minute and any hour, answered as GitHub does with 403 (or 429), a "secondary rate limit"
 * message and `retry-after` in seconds. Primary limit: requests per hour, reported on every answer in
 * `x-ratelimit-*` headers and answered 403 "API rate limit exceeded" with `x-ratelimit-remaining: 0` once
 * spent. Refused requests do not count.
 */
export interface RateLimitSimulation {
  /** The clock the windows are counted on (the reporter's fake clock in tests); the system clock when unset. */
  clock?: { now(): number };
  /** Content-creating requests allowed in any minute (GitHub: 80). */
  writesPerMinute?: number;
  /** Content-creating requests allowed in any hour (GitHub: 500). */
  writesPerHour?: number;
  /** Requests allowed an hour (primary limit; a job's GITHUB_TOKEN has 1,000 per repository). */
  requestsPerHour?: number;
  /** How a secondary limit is answered (GitHub uses both). Default 403. */
  status?: 403 | 429;
}

/** What the fake received, for tests and benchmarks. */
export interface FakeGitHubCounters {
  requests: number;
  /** Content-creating requests accepted (POST, PATCH). */
  writes: number;
  creates: number;
  updates: number;
  /** Requests refused for a rate limit. */
  rateLimited: number;
  /** When the last request arrived (the simulation's clock), or undefined before any. */
  lastRequestAt: number | undefined;
}

export interface FakeGitHubOptions {
  /** `owner/name` served; other repositories answer 404. */
  repository: string;
  /** Tokens accepted; any non-empty token when unset. */
  tokens?: string[];
  /**
   * Answer 403 "secondary rate limit" when more writes than this arrive within a minute (GitHub: 80). The
   * same as `rateLimits: { writesPerMinute }`.
   */
  writesPerMinute?: number;
  /** Simulate GitHub's rate limits (off when unset). */
  rateLimits?: RateLimitSimulation;
  /** Wait this long before answering, as a distant API does. */
  responseDelayMs?: number;
}

export interface FakeGitHub {
  /** Base URL to pass as `baseUrl` / `GITHUB_API_URL`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests that broke the OpenAPI description or GitHub's rules, with why. A passing test expects none. */
  readonly violations: { request: RecordedRequest; problems: string[] }[];
  readonly checkRuns: Map<number, FakeCheckRun>;
  readonly pullRequests: Map<number, FakePullRequest>;
  /** Commit messages by SHA (`repos/get-commit`). */
  readonly commits: Map<string, string>;
  script(response: ScriptedResponse): void;
  /** Forgets every scripted answer. */
  clearScripts(): void;
  /** Most writes accepted within any 60-second window (of the simulation's clock). */
  maxWritesPerMinute(): number;
  /** Counts of what was received since the start (or since `requests` was last emptied). */
  counters(): FakeGitHubCounters;
  checkRunByName(name: string): FakeCheckRun | undefined;
  close(): Promise<void>;
}

interface CompiledOperation {
  id: OperationId;
  method: string;
  pattern: RegExp;
  params: string[];
  status: number;
  validateBody?: ValidateFunction;
  validateResponse: ValidateFunction;
  responseSchema: Record<string, unknown>;
  components: Record<string, unknown>;
}

type Json = Record<string, unknown>;

let cachedSpec: Json | undefined;

function loadSpec(): Json {
  if (cachedSpec) return cachedSpec;
  const require = createRequire(import.meta.url);
  const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
  cachedSpec = JSON.parse(readFileSync(file, "utf8")) as Json;
  return cachedSpec;
}

/**
 * OpenAPI 3.0 schemas to JSON Schema that Ajv accepts: `nullable` becomes a `null` type (or an `anyOf` with
 * `null` where there is no `type`), `null` joins enums of nullable fields (`conclusion`), and the formats
 * used are collected so unknown ones can be registered.
 */
export function openApiToJsonSchema(node: unknown, formats: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => openApiToJsonSchema(n, formats));
  if (typeof node !== "object" || node === null) return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (
      k === "nullable" ||
      k === "example" ||
      k === "examples" ||
      k === "discriminator" ||
      k.startsWith("x-")
    )
      continue;
    if (k === "properties" || k === "patternProperties") {
      out[k] = Object.fromEntries(
        Object.entries(v as Json).map(([name, s]) => [name, openApiToJsonSchema(s, formats)]),
      );
    } else out[k] = openApiToJsonSchema(v, formats);
  }
  if (typeof src.format === "string") formats.add(src.format);
  if (typeof out.$ref === "string")
    out.$ref = (out.$ref as string).replace("#/components/schemas/", "#/$defs/");
  if (src.nullable === true) {
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (out.type === undefined) return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

function collectRefs(node: unknown, spec: Json, into: Map<string, unknown>): void {
  if (Array.isArray(node)) return node.forEach((n) => collectRefs(n, spec, into));
  if (typeof node !== "object" || node === null) return;
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) {
      const name = v.slice("#/components/schemas/".length);
      if (!into.has(name)) {
        const schema = ((spec.components as Json).schemas as Json)[name];
        into.set(name, schema);
        collectRefs(schema, spec, into);
      }
    } else collectRefs(v, spec, into);
  }
}

function resolveRef<T>(spec: Json, node: unknown): T {
  let n = node as Json;
  while (n && typeof n.$ref === "string") {
    const parts = (n.$ref as string).slice(2).split("/");
    n = parts.reduce<Json>((o, p) => o[p] as Json, spec);
  }
  return n as T;
}

/** Compiles the served operations only: the whole description takes far longer than a test should wait. */
function compileOperations(): CompiledOperation[] {
  const spec = loadSpec();
  const formats = new Set<string>();
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const compiled: CompiledOperation[] = [];
  const pending: { op: (typeof OPERATIONS)[number]; body?: Json; response: Json }[] = [];
  for (const op of OPERATIONS) {
    const item = ((spec.paths as Json)[op.path] as Json)[op.method.toLowerCase()] as Json;
    const bodySchema = resolveRef<Json | undefined>(spec, item.requestBody);
    const body = bodySchema ? ((bodySchema.content as Json)["application/json"] as Json).schema : undefined;
    const response = resolveRef<Json>(spec, (item.responses as Json)[String(op.status)]);
    const responseSchema = ((response.content as Json)["application/json"] as Json).schema as Json;
    pending.push({ op, ...(body ? { body: body as Json } : {}), response: responseSchema });
  }
  const refs = new Map<string, unknown>();
  for (const p of pending) collectRefs([p.body, p.response], spec, refs);
  const defs = Object.fromEntries([...refs].map(([k, v]) => [k, openApiToJsonSchema(v, formats)]));
  const bodies = pending.map((p) => (p.body ? (openApiToJsonSchema(p.body, formats) as Json) : undefined));
  const responses = pending.map((p) => openApiToJsonSchema(p.response, formats) as Json);
  for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true);
  pending.forEach((p, i) => {
    const params: string[] = [];
    const pattern = new RegExp(
      "^" +
        p.op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          params.push(name);
          return "([^/]+)";
        }) +
        "$",
    );
    const body = bodies[i];
    const response = responses[i]!;
    compiled.push({
      id: p.op.id,
      method: p.op.method,
      pattern,
      params,
      status: p.op.status,
      ...(body ? { validateBody: ajv.compile({ ...body, $defs: defs }) } : {}),
      validateResponse: ajv.compile({ ...response, $defs: defs }),
      responseSchema: response,
      components: defs,
    });
  });
  return compiled;
}

/** A minimal value valid against a schema: required fields only, formats respected, nullable as null. */
export function sampleFromSchema(schema: unknown, defs: Record<string, unknown>, depth = 0): unknown {
  let s = schema as Json;
  if (typeof s.$ref === "string") s = defs[(s.$ref as string).replace("#/$defs/", "")] as Json;
  if (depth > 30) return null;
  if (Array.isArray(s.anyOf)) {
    const nullable = (s.anyOf as Json[]).find((x) => x.type === "null");
    return nullable ? null : sampleFromSchema((s.anyOf as Json[])[0], defs, depth + 1);
  }
  if (Array.isArray(s.oneOf)) return sampleFromSchema((s.oneOf as Json[])[0], defs, depth + 1);
  if (Array.isArray(s.allOf)) {
    const parts = (s.allOf as Json[]).map((x) => sampleFromSchema(x, defs, depth + 1));
    return Object.assign({}, ...parts.filter((p) => typeof p === "object" && p !== null));
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : ["object"];
  if (types.includes("null")) return null;
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (types[0]) {
    case "string":
      switch (s.format) {
        case "date-time":
          return "2026-01-01T00:00:00Z";
        case "uri":
          return "https://github.com/";
        case "email":
          return "octocat@github.com";
        default:
          return "x";
      }
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return false;
    case "array":
      return [];
    default: {
      const out: Json = {};
      const props = (s.properties ?? {}) as Json;
      for (const name of (s.required ?? []) as string[])
        out[name] = props[name] ? sampleFromSchema(props[name], defs, depth + 1) : "x";
      return out;
    }
  }
}

const HEX40 = /^[0-9a-f]{40}$/;

/** GitHub's rules for check runs that the OpenAPI description does not express. */
function checkRunRules(body: Json, creating: boolean): string[] {
  const problems: string[] = [];
  const status = body.status as string | undefined;
  if (creating && typeof body.head_sha === "string" && !HEX40.test(body.head_sha))
    problems.push(`head_sha ${body.head_sha} is not a commit SHA`);
  if ((status === "completed" || body.completed_at !== undefined) && body.conclusion === undefined)
    problems.push("conclusion is required with status completed or completed_at");
  if (body.conclusion === "stale") problems.push("conclusion stale can only be set by GitHub");
  if (typeof body.name === "string" && body.name.trim() === "") problems.push("name is empty");
  const output = body.output as Json | undefined;
  if (output) {
    if (typeof output.title !== "string" || typeof output.summary !== "string")
      problems.push("output needs title and summary");
    if (typeof output.title === "string" && output.title.length > 255)
      problems.push("output.title is longer than 255 characters");
    const annotations = (output.annotations ?? []) as Json[];
    annotations.forEach((a, i) => {
      const start = a.start_line as number;
      const end = a.end_line as number;
      if (start < 1) problems.push(`annotations[${i}].start_line must be at least 1`);
      if (end < start) problems.push(`annotations[${i}].end_line is before start_line`);
      if ((a.start_column !== undefined || a.end_column !== undefined) && start !== end)
        problems.push(`annotations[${i}] has columns but spans lines`);
      if (typeof a.path === "string" && (a.path === "" || a.path.startsWith("/") || a.path.includes("..")))
        problems.push(`annotations[${i}].path ${a.path} is not a path in the repository`);
      if (typeof a.title === "string" && a.title.length > 255)
        problems.push(`annotations[${i}].title is longer than 255 characters`);
      if (typeof a.message === "string" && Buffer.byteLength(a.message) > 64 * 1024)
        problems.push(`annotations[${i}].message is larger than 64 KB`);
    });
  }
  return problems;
}

/** Starts the fake on a free local port. */
export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const operations = compileOperations();
  const requests: RecordedRequest[] = [];
  const violations: { request: RecordedRequest; problems: string[] }[] = [];
  const checkRuns = new Map<number, FakeCheckRun>();
  const pullRequests = new Map<number, FakePullRequest>();
  const commits = new Map<string, string>();
  const scripted: (ScriptedResponse & { left: number })[] = [];
  const writeTimes: number[] = [];
  const limits: RateLimitSimulation | undefined =
    options.rateLimits ??
    (options.writesPerMinute !== undefined ? { writesPerMinute: options.writesPerMinute } : undefined);
  const now = () => (limits?.clock ?? Date).now();
  /** The primary limit's hour: when it started, and the requests counted in it. */
  const primary = { since: now(), used: 0 };
  let nextId = 1;
  const [owner, repo] = options.repository.split("/") as [string, string];
  let url = "";

  const primaryHeaders = (): Record<string, string> => {
    const limit = limits?.requestsPerHour ?? 5000;
    if (now() >= primary.since + 3_600_000) Object.assign(primary, { since: now(), used: 0 });
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - primary.used)),
      "x-ratelimit-used": String(primary.used),
      "x-ratelimit-reset": String(Math.ceil((primary.since + 3_600_000) / 1000)),
      "x-ratelimit-resource": "core",
    };
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      ...primaryHeaders(),
      ...headers,
    });
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string, headers?: Record<string, string>) =>
    send(
      res,
      status,
      { message, documentation_url: "https://docs.github.com/rest", status: String(status) },
      headers,
    );

  const checkRunJson = (run: FakeCheckRun, op: CompiledOperation): unknown => {
    const sample = sampleFromSchema(op.responseSchema, op.components) as Json;
    return {
      ...sample,
      id: run.id,
      node_id: `CR_${run.id}`,
      head_sha: run.head_sha,
      name: run.name,
      url: `${url}/repos/${options.repository}/check-runs/${run.id}`,
      html_url: `https://github.com/${options.repository}/runs/${run.id}`,
      details_url: run.details_url,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.started_at,
      completed_at: run.completed_at,
      external_id: run.external_id,
      check_suite: { id: 1 },
      output: {
        ...run.output,
        annotations_count: run.annotations.length,
        annotations_url: `${url}/repos/${options.repository}/check-runs/${run.id}/annotations`,
      },
      pull_requests: [],
    };
  };

  const answer = (res: ServerResponse, op: CompiledOperation, status: number, body: unknown) => {
    if (!op.validateResponse(body))
      throw new Error(
        `fake GitHub answered ${op.id} outside its schema: ${JSON.stringify(op.validateResponse.errors?.slice(0, 3))}`,
      );
    send(res, status, body);
  };

  /** The answer GitHub gives a request over its limits, or undefined when the request may go. */
  const rateLimitRefusal = (
    sim: RateLimitSimulation,
    write: boolean,
  ): { status: number; message: string; headers: Record<string, string> } | undefined => {
    const at = now();
    const headers = primaryHeaders();
    if (headers["x-ratelimit-remaining"] === "0")
      return {
        status: 403,
        message: `API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.`,
        headers,
      };
    if (!write) return undefined;
    for (const [windowMs, limit] of [
      [60_000, sim.writesPerMinute],
      [3_600_000, sim.writesPerHour],
    ] as const) {
      if (limit === undefined) continue;
      const inWindow = writeTimes.filter((t) => t > at - windowMs);
      if (inWindow.length < limit) continue;
      const freeAt = inWindow[inWindow.length - limit]! + windowMs;
      return {
        status: sim.status ?? 403,
        message:
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
        headers: { "retry-after": String(Math.max(1, Math.ceil((freeAt - at) / 1000))) },
      };
    }
    return undefined;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const u = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const record: RecordedRequest = {
      operation: undefined,
      method,
      path: u.pathname,
      body: undefined,
      status: 0,
      at: now(),
    };
    requests.push(record);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      record.status = status;
      send(res, status, body, headers);
    };
    const fail = (status: number, message: string, headers?: Record<string, string>) => {
      record.status = status;
      error(res, status, message, headers);
    };

    let op: CompiledOperation | undefined;
    let match: RegExpExecArray | null = null;
    for (const o of operations) {
      if (o.method !== method) continue;
      match = o.pattern.exec(u.pathname);
      if (match) {
        op = o;
        break;
      }
    }
    if (!op || !match) {
      violations.push({
        request: record,
        problems: [`${method} ${u.pathname} is not an operation the fake serves`],
      });
      return fail(404, "Not Found");
    }
    record.operation = op.id;
    const params = Object.fromEntries(op.params.map((p, i) => [p, decodeURIComponent(match[i + 1]!)]));

    const problems: string[] = [];
    const auth = req.headers.authorization ?? "";
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1];
    if (!token) return fail(401, "Requires authentication");
    if (options.tokens && !options.tokens.includes(token)) return fail(401, "Bad credentials");
    if (!req.headers["user-agent"]) problems.push("no User-Agent header (GitHub rejects such requests)");
    let body: Json | undefined;
    if (op.validateBody) {
      if (!/application\/json/.test(req.headers["content-type"] ?? ""))
        problems.push("body is not application/json");
      try {
        body = JSON.parse(raw || "null") as Json;
      } catch {
        problems.push("body is not JSON");
      }
      record.body = body;
      if (body !== undefined && !op.validateBody(body))
        problems.push(
          ...(op.validateBody.errors ?? []).map((e) => `${e.instancePath || "body"} ${e.message ?? ""}`),
        );
      if (body && (op.id === "checks/create" || op.id === "checks/update"))
        problems.push(...checkRunRules(body, op.id === "checks/create"));
    }
    for (const name of ["check_run_id", "pull_number"])
      if (params[name] !== undefined && !/^\d+$/.test(params[name]))
        problems.push(`${name} ${params[name]} is not an integer`);
    if (problems.length > 0) {
      violations.push({ request: record, problems });
      return fail(422, `Validation Failed: ${problems.join("; ")}`);
    }
    if (params.owner !== owner || params.repo !== repo) return fail(404, "Not Found");

    const s = scripted.find((x) => x.left > 0 && (x.operation === undefined || x.operation === op.id));
    if (s) {
      s.left--;
      record.rateLimited =
        s.headers?.["retry-after"] !== undefined || /rate limit/i.test(s.message ?? defaultMessage(s.status));
      return fail(s.status, s.message ?? defaultMessage(s.status), s.headers);
    }
    const refusal = limits ? rateLimitRefusal(limits, method !== "GET") : undefined;
    if (refusal) {
      record.rateLimited = true;
      return fail(refusal.status, refusal.message, refusal.headers);
    }
    primary.used++;
    if (method !== "GET") writeTimes.push(now());

    switch (op.id) {
      case "checks/create": {
        const b = body!;
        const id = nextId++;
        const run: FakeCheckRun = {
          id,
          name: b.name as string,
          head_sha: b.head_sha as string,
          status: b.conclusion !== undefined ? "completed" : ((b.status as string | undefined) ?? "queued"),
          conclusion: (b.conclusion as string | undefined) ?? null,
          started_at: (b.started_at as string | undefined) ?? new Date().toISOString(),
          completed_at: (b.completed_at as string | undefined) ?? null,
          external_id: (b.external_id as string | undefined) ?? null,
          details_url: (b.details_url as string | undefined) ?? null,
          output: { title: null, summary: null, text: null },
          annotations: [],
        };
        applyOutput(run, b.output as Json | undefined);
        if (run.status === "completed" && !run.completed_at) run.completed_at = new Date().toISOString();
        checkRuns.set(id, run);
        record.status = 201;
        return answer(res, op, 201, checkRunJson(run, op));
      }
      case "checks/update": {
        const run = checkRuns.get(Number(params.check_run_id));
        if (!run) return fail(404, "Not Found");
        const b = body!;
        if (b.name !== undefined) run.name = b.name as string;
        if (b.status !== undefined) run.status = b.status as string;
        if (b.conclusion !== undefined) {
          run.conclusion = b.conclusion as string;
          run.status = "completed";
        }
        if (b.started_at !== undefined) run.started_at = b.started_at as string;
        if (b.completed_at !== undefined) run.completed_at = b.completed_at as string;
        if (run.status === "completed" && !run.completed_at) run.completed_at = new Date().toISOString();
        applyOutput(run, b.output as Json | undefined);
        record.status = 200;
        return answer(res, op, 200, checkRunJson(run, op));
      }
      case "pulls/get": {
        const pr = pullRequests.get(Number(params.pull_number));
        if (!pr) return fail(404, "Not Found");
        const sample = sampleFromSchema(op.responseSchema, op.components) as Json;
        const repoJson = (full: string) => ({
          ...((sample.base as Json).repo as Json),
          full_name: full,
          name: full.split("/")[1],
          owner: { ...(((sample.base as Json).repo as Json).owner as Json), login: full.split("/")[0] },
        });
        record.status = 200;
        return answer(res, op, 200, {
          ...sample,
          number: pr.number,
          state: "open",
          head: {
            ...(sample.head as Json),
            sha: pr.headSha,
            ref: pr.headRef,
            label: pr.headRef,
            repo: repoJson(pr.headRepository ?? options.repository),
          },
          base: {
            ...(sample.base as Json),
            ref: pr.baseRef,
            label: pr.baseRef,
            repo: repoJson(options.repository),
          },
        });
      }
      case "repos/get-commit": {
        const message = commits.get(params.ref!);
        if (message === undefined) return fail(404, "No commit found for SHA: " + params.ref);
        const sample = sampleFromSchema(op.responseSchema, op.components) as Json;
        record.status = 200;
        return answer(res, op, 200, {
          ...sample,
          sha: params.ref,
          commit: { ...(sample.commit as Json), message },
        });
      }
      case "pulls/list-files": {
        const pr = pullRequests.get(Number(params.pull_number));
        if (!pr) return fail(404, "Not Found");
        const perPage = Math.min(100, Number(u.searchParams.get("per_page") ?? 30));
        const page = Number(u.searchParams.get("page") ?? 1);
        const slice = pr.files.slice((page - 1) * perPage, page * perPage);
        const item = sampleFromSchema((op.responseSchema as Json).items, op.components) as Json;
        const files = slice.map((f, i) => ({
          ...item,
          filename: f,
          sha: "0".repeat(39) + String(i % 10),
          status: "modified",
        }));
        const headers: Record<string, string> = {};
        if (page * perPage < pr.files.length)
          headers.link = `<${url}${u.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
        if (!op.validateResponse(files))
          throw new Error("fake GitHub answered pulls/list-files outside its schema");
        return reply(200, files, headers);
      }
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (options.responseDelayMs) setTimeout(go, options.responseDelayMs);
      else go();
    });
    const go = () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString("utf8"));
      } catch (e) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `fake GitHub: ${(e as Error).message}` }));
        violations.push({
          request: requests[requests.length - 1]!,
          problems: [`the fake failed: ${(e as Error).message}`],
        });
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    violations,
    checkRuns,
    pullRequests,
    commits,
    script: (r) => scripted.push({ ...r, left: r.times ?? 1 }),
    clearScripts: () => {
      scripted.length = 0;
    },
    maxWritesPerMinute: () => {
      let best = 0;
      for (let i = 0, j = 0; i < writeTimes.length; i++) {
        while (writeTimes[i]! - writeTimes[j]! >= 60_000) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    },
    counters: () => ({
      requests: requests.length,
      writes: requests.filter((r) => r.method !== "GET" && r.status >= 200 && r.status < 300).length,
      creates: requests.filter((r) => r.operation === "checks/create" && r.status === 201).length,
      updates: requests.filter((r) => r.operation === "checks/update" && r.status === 200).length,
      rateLimited: requests.filter((r) => r.rateLimited).length,
      lastRequestAt: requests.length > 0 ? requests[requests.length - 1]!.at : undefined,
    }),
    checkRunByName: (name) => [...checkRuns.values()].find((r) => r.name === name),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function applyOutput(run: FakeCheckRun, output: Json | undefined): void {
  if (!output) return;
  run.output = {
    title: (output.title as string | undefined) ?? run.output.title,
    summary: (output.summary as string | undefined) ?? run.output.summary,
    text: (output.text as string | undefined) ?? run.output.text,
  };
  run.annotations.push(...((output.annotations ?? []) as Json[]));
}

function defaultMessage(status: number): string {
  switch (status) {
    case 403:
      return "Resource not accessible by integration";
    case 422:
      return "Validation Failed";
    case 429:
      return "API rate limit exceeded";
    default:
      return status >= 500 ? "Server Error" : "Error";
  }
}
