import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import createClient, { type Client } from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import { defaultConfig, type SkiffConfig } from "../../../src/config/index.js";
import { startServer, type ServerOptions, type SkiffServer } from "../../../src/server/index.js";
import { openApiToJsonSchema } from "../../../src/testing/fake-github.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** Argo's own description of its API, beside the project (never copied into it). */
export const SWAGGER = resolve(ROOT, "../shared/contracts/argo-server.swagger.json");
export const HAVE_SHARED = existsSync(SWAGGER);
export const SKIP_REASON = `Argo's swagger is not at ${SWAGGER}: the server API tests need ../shared/contracts`;

type Json = Record<string, unknown>;
/** The generated client's path map; the types themselves are generated at set-up for editors (below). */
export type ArgoClient = Client<any>;

/** The schemas of one operation of the converted description. */
interface OperationSchemas {
  body?: ValidateFunction;
  responses: Map<string, ValidateFunction>;
}

/** Argo's API converted to OpenAPI 3 (swagger2openapi), with ajv validators of its operations. */
export interface ArgoApi {
  openapi: Json;
  /** The folder the generated client types were written to (removed by `dispose`). */
  typesFile: string;
  operation(path: string, method: string): OperationSchemas;
  /** Every schema problem seen by any client, as `METHOD path: problem`. */
  problems: string[];
  dispose(): void;
}

let cached: Promise<ArgoApi> | undefined;

/**
 * Converts Argo's Swagger 2.0 description with swagger2openapi, generates the client's types with
 * openapi-typescript into a temporary folder, and compiles ajv validators of each operation's body and
 * responses (lazily, on first use).
 */
export function loadArgoApi(): Promise<ArgoApi> {
  cached ??= (async () => {
    const require = createRequire(import.meta.url);
    const converter = require("swagger2openapi") as {
      convertObj(spec: unknown, options: Json): Promise<{ openapi: Json }>;
    };
    const swagger = JSON.parse(readFileSync(SWAGGER, "utf8")) as Json;
    const { openapi } = await converter.convertObj(swagger, { patch: true, warnOnly: true });
    const dir = mkdtempSync(join(tmpdir(), "skiff-argo-api-"));
    const typesFile = join(dir, "argo-server.d.ts");
    writeFileSync(typesFile, astToString(await openapiTS(openapi as never)));

    const formats = new Set<string>();
    const schemas = (openapi.components as Json).schemas as Json;
    const defs = Object.fromEntries(
      Object.entries(schemas).map(([k, v]) => [k, openApiToJsonSchema(v, formats)]),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true);
    ajv.addSchema(
      JSON.parse(JSON.stringify({ $defs: defs }).replaceAll('"#/$defs/', '"argo#/$defs/')),
      "argo",
    );
    const compileSchema = (schema: unknown) => {
      const converted = openApiToJsonSchema(schema, formats);
      return ajv.compile(
        JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', '"argo#/$defs/')) as Json,
      );
    };
    const compiled = new Map<string, OperationSchemas>();
    const problems: string[] = [];
    return {
      openapi,
      typesFile,
      problems,
      operation(path, method) {
        const key = `${method.toLowerCase()} ${path}`;
        let op = compiled.get(key);
        if (op) return op;
        const item = ((openapi.paths as Json)[path] as Json | undefined)?.[method.toLowerCase()] as
          Json | undefined;
        if (!item) throw new Error(`${method} ${path} is not an operation of Argo's API`);
        const content = (r: unknown) =>
          ((r as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined;
        const body = content(item.requestBody)?.schema;
        op = { ...(body ? { body: compileSchema(body) } : {}), responses: new Map() };
        for (const [status, response] of Object.entries(item.responses as Json)) {
          const schema = content(response)?.schema;
          if (schema) op.responses.set(status, compileSchema(schema));
        }
        compiled.set(key, op);
        return op;
      },
      dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  })();
  return cached;
}

const describeErrors = (v: ValidateFunction) =>
  (v.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || "/"} ${e.message}`)
    .join("; ");

/** Validates one value against an operation's response schema (`200` or `default`); returns the problem. */
export function checkResponse(
  api: ArgoApi,
  path: string,
  method: string,
  status: number,
  value: unknown,
): string | undefined {
  const op = api.operation(path, method);
  const validate = op.responses.get(String(status)) ?? op.responses.get("default");
  if (!validate) return `${method} ${path}: no schema for status ${status}`;
  return validate(value) ? undefined : `${method} ${path} ${status}: ${describeErrors(validate)}`;
}

/**
 * An openapi-fetch client of Argo's API at `baseUrl`: every request body and every JSON response is
 * validated against the description; a mismatch fails the call and is kept in `api.problems`.
 */
export function argoClient(
  api: ArgoApi,
  baseUrl: string,
  token?: string,
  fetchImpl?: typeof fetch,
): ArgoClient {
  const client = createClient({
    baseUrl,
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    ...(fetchImpl ? { fetch: fetchImpl as (input: Request) => Promise<Response> } : {}),
  });
  client.use({
    async onRequest({ request, schemaPath }) {
      const op = api.operation(schemaPath, request.method);
      if (op.body && request.body) {
        const text = await request.clone().text();
        if (!op.body(JSON.parse(text))) {
          const problem = `${request.method} ${schemaPath} request: ${describeErrors(op.body)}`;
          api.problems.push(problem);
          throw new Error(problem);
        }
      }
      return undefined;
    },
    async onResponse({ request, response, schemaPath }) {
      const type = response.headers.get("content-type") ?? "";
      // Streams are checked frame by frame (`readFrames`); `fields` asks for partial objects on purpose.
      if (
        !type.startsWith("application/json") ||
        (response.ok && /\/(log|workflow-events\/)/.test(schemaPath)) ||
        (response.ok && new URL(request.url).searchParams.has("fields"))
      )
        return undefined;
      const problem = checkResponse(
        api,
        schemaPath,
        request.method,
        response.status,
        await response.clone().json(),
      );
      if (problem) {
        api.problems.push(problem);
        throw new Error(problem);
      }
      return undefined;
    },
  });
  return client;
}

/** Reads a stream's frames (`{"result": ...}` lines, or SSE `data:` lines) until `until` says stop. */
export async function readFrames(
  api: ArgoApi,
  schemaPath: string,
  response: Response,
  until: (frame: Json, all: Json[]) => boolean,
): Promise<Json[]> {
  const frames: Json[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return frames;
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        let line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line.startsWith("data:")) line = line.slice(5).trim();
        if (line === "" || line.startsWith(":")) continue;
        const frame = JSON.parse(line) as Json;
        // Frames of a `fields` request are partial on purpose.
        const problem = new URL(response.url).searchParams.has("fields")
          ? undefined
          : checkResponse(api, schemaPath, "GET", 200, frame);
        if (problem) throw new Error(problem);
        frames.push(frame);
        if (until(frame, frames)) return frames;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A config for a server under test: host executor, a temporary state folder. */
export function testConfig(state: string, extra: Partial<SkiffConfig> = {}): SkiffConfig {
  const config = defaultConfig();
  config.executor = "host";
  config.stateDir = state;
  return { ...config, ...extra };
}

/** A server on a free port, closed (and its state removed) by the returned `stop`. */
export async function testServer(
  options: Partial<ServerOptions> & { state?: string } = {},
): Promise<{ server: SkiffServer; state: string; stop: () => Promise<void> }> {
  const state = options.state ?? mkdtempSync(join(tmpdir(), "skiff-server-test-"));
  const server = await startServer({
    authMode: "server",
    port: 0,
    pollMs: 500,
    workspace: state,
    log: () => undefined,
    ...options,
    config: options.config ?? testConfig(state),
  });
  return {
    server,
    state,
    stop: async () => {
      await server.close();
      if (!options.state) rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A create request's body: one workflow of one `sh -c` step (busybox; the host executor runs it on the host). */
export function shellWorkflowBody(name: string, script: string): string {
  return JSON.stringify({
    workflow: {
      metadata: { name },
      spec: {
        entrypoint: "main",
        templates: [{ name: "main", container: { image: "busybox", command: ["sh", "-c", script] } }],
      },
    },
  });
}
