import type { IncomingMessage, ServerResponse } from "node:http";
import { isSkiffError, SkiffAggregateError, SkiffError, toSkiffError } from "../../runtime/errors/index.js";
import { VERSION } from "../version.js";

/** gRPC status codes (google.rpc.Code), which Argo's API answers with. */
export const GRPC = {
  InvalidArgument: 3,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

/** grpc-gateway's mapping of a gRPC code to the HTTP status of the response. */
const HTTP_OF: Record<number, number> = {
  0: 200,
  1: 408,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

/** Thrown by a route: answered as Argo's `{code, message}` with the status grpc-gateway gives the code. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = HTTP_OF[code] ?? 500,
  ) {
    super(message);
  }
}

/** The gRPC code a coded error of the run pipeline stands for. */
function grpcCodeOf(e: SkiffError): number {
  const code = e.code;
  if (code === "SKF-RUN-003") return GRPC.NotFound;
  if (code === "SKF-RUN-014") return GRPC.AlreadyExists;
  if (code === "SKF-RUN-005") return GRPC.Aborted;
  if (code === "SKF-STORE-002") return GRPC.Aborted;
  if (code === "SKF-REG-001") return GRPC.AlreadyExists;
  if (code === "SKF-REG-003") return GRPC.NotFound;
  if (/^SKF-(SPEC|EXPR|PIPE|SRV|CLI|METRIC|REG|CRON)-/.test(code)) return GRPC.InvalidArgument;
  if (["SKF-RUN-001", "SKF-RUN-004", "SKF-RUN-007", "SKF-RUN-008", "SKF-RUN-010"].includes(code))
    return GRPC.InvalidArgument;
  return GRPC.Internal;
}

/** `CODE message (file:line)`; an aggregate's problems follow its message, each with its place. */
function describe(err: SkiffError): string {
  const where = err.position?.file
    ? ` (${err.position.file}${err.position.line ? `:${err.position.line}` : ""})`
    : "";
  const problems = err instanceof SkiffAggregateError ? `: ${err.problems.map(describe).join("; ")}` : "";
  return `${err.code} ${err.message}${where}${problems}`;
}

/** Any thrown value as the API error it is answered with. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const err = isSkiffError(e) ? e : toSkiffError(e);
  if (err.code === "SKF-SRV-005") return new ApiError(GRPC.ResourceExhausted, err.message, 413);
  return new ApiError(grpcCodeOf(err), describe(err));
}

/** Writes Argo's error body; never the version header (Argo sends it on success only). */
export function sendError(res: ServerResponse, e: unknown): void {
  const err = toApiError(e);
  if (res.headersSent) {
    // Mid-stream: the gateway's error chunk.
    res.end(
      JSON.stringify({
        error: { grpc_code: err.code, http_code: err.httpStatus, message: err.message, http_status: "" },
      }) + "\n",
    );
    return;
  }
  const body = JSON.stringify({ code: err.code, message: err.message });
  res.writeHead(err.httpStatus, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Writes a successful JSON reply with Argo's version header. */
export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "Grpc-Metadata-Argo-Version": VERSION,
  });
  res.end(body);
}

/** The largest request body accepted (`SKF-SRV-005` above it, answered 413). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Reads a request body as it was sent, up to {@link MAX_BODY_BYTES} (webhook signatures cover the bytes). */
export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON request body up to {@link MAX_BODY_BYTES}; an empty body is `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readRawBody(req)).toString("utf8");
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SkiffError("SKF-SRV-002", `request body is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new SkiffError("SKF-SRV-002", "request body must be a JSON object");
  return value as Record<string, unknown>;
}

function tooLarge(): SkiffError {
  return new SkiffError("SKF-SRV-005", `request body is larger than ${MAX_BODY_BYTES} bytes`);
}

/** What a route handler gets. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<Record<string, unknown>>;
}

/** A route's answer: a JSON value sent with status 200, or `undefined` when the handler wrote the response. */
export type RouteHandler = (ctx: RouteContext) => Promise<unknown>;

/**
 * One API route: `read` routes take a read token, `write` routes a write token; `signed` routes (webhooks)
 * take no token and check the request's signature themselves.
 */
export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Argo's path with `{param}` segments, e.g. `/api/v1/workflows/{namespace}/{name}`. */
  path: string;
  access: "read" | "write" | "signed";
  handler: RouteHandler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

/** Matches requests to routes by method and path; the first route that matches wins. */
export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(...routes: Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      // A trailing `/` binds an empty last parameter (`/api/v1/events/argo/`), as grpc-gateway does.
      const source = r.path.replace(/\{(\w+)\}/g, (_, n: string) => {
        names.push(n);
        return "([^/]*)";
      });
      this.routes.push({ ...r, pattern: new RegExp(`^${source}$`), names });
    }
    return this;
  }

  /** The route for a request and its decoded path parameters; `pathKnown` when only the method differs. */
  match(method: string, path: string): { route?: Route; params: Record<string, string>; pathKnown: boolean } {
    let pathKnown = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? "")));
      return { route: r, params, pathKnown };
    }
    return { params: {}, pathKnown };
  }
}
