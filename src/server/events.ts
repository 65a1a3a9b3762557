import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { evaluateCondition, evaluateExpression, formatExpressionResult } from "../../runtime/expr/index.js";
import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { CompiledWorkflow } from "../../runtime/spec/index.js";
import type { SkiffConfig } from "../config/index.js";
import { selectRegistered } from "../run/from-registry.js";
import { storeSubmitted } from "../run/retry.js";
import { compileRunnable } from "../run/select.js";
import type { RunSource } from "../run/store.js";
import { EVENT_CODES } from "./event-codes.js";
import { ApiError, GRPC, readRawBody, type Route } from "./http.js";
import type { WorkflowRunner } from "./runner.js";

/** What the event routes work on. */
export interface EventApi {
  config: SkiffConfig;
  store: Store;
  runner: WorkflowRunner;
  /** The folder steps of the submitted workflows see as their workspace. */
  workspace: string;
}

/** Argo's WorkflowEventBinding, as far as Skiff reads it. */
export interface WorkflowEventBinding {
  apiVersion: string;
  kind: "WorkflowEventBinding";
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    event: { selector: string };
    submit?: {
      workflowTemplateRef: { name: string; clusterScope?: boolean };
      metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
      arguments?: { parameters?: { name: string; valueFrom?: { event?: string } }[] };
    };
  };
  /** Where it was read (messages only). */
  file: string;
  line?: number;
}

/** The label Argo puts on a workflow a binding submitted. */
export const BINDING_LABEL = "workflows.argoproj.io/workflow-event-binding";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const bindingError = (message: string, file: string, line?: number) =>
  new SkiffError(EVENT_CODES["SKF-EVT-001"], message, { position: { file, ...(line ? { line } : {}) } });

/** Checks one parsed document as a WorkflowEventBinding; `SKF-EVT-001` naming its file and line. */
function toBinding(object: unknown, file: string, line: number | undefined): WorkflowEventBinding {
  const fail = (message: string) => bindingError(message, file, line);
  if (!isRecord(object) || object.kind !== "WorkflowEventBinding")
    throw fail(
      `expected a WorkflowEventBinding, found ${isRecord(object) ? String(object.kind) : "no object"}`,
    );
  const meta = isRecord(object.metadata) ? object.metadata : {};
  if (typeof meta.name !== "string" || meta.name === "") throw fail("the binding has no metadata.name");
  const spec = isRecord(object.spec) ? object.spec : {};
  const event = isRecord(spec.event) ? spec.event : {};
  if (typeof event.selector !== "string" || event.selector === "")
    throw fail(`binding ${meta.name}: spec.event.selector must be an expression`);
  if (spec.submit !== undefined) {
    const submit = isRecord(spec.submit) ? spec.submit : {};
    const ref = isRecord(submit.workflowTemplateRef) ? submit.workflowTemplateRef : {};
    if (typeof ref.name !== "string" || ref.name === "")
      throw fail(`binding ${meta.name}: spec.submit.workflowTemplateRef.name is missing`);
    const args = isRecord(submit.arguments) ? submit.arguments : {};
    const parameters: unknown = args.parameters ?? [];
    if (!Array.isArray(parameters))
      throw fail(`binding ${meta.name}: spec.submit.arguments.parameters must be a list`);
    for (const p of parameters) {
      const name = isRecord(p) && typeof p.name === "string" ? p.name : "";
      if (!name) throw fail(`binding ${meta.name}: a parameter has no name`);
      const from = isRecord(p) && isRecord(p.valueFrom) ? p.valueFrom : {};
      // Argo's own words for a parameter without an expression.
      if (typeof from.event !== "string" || from.event === "")
        throw fail(`binding ${meta.name}: parameter ${name}: valueFrom is nil (valueFrom.event is required)`);
    }
  }
  return {
    ...(object as unknown as WorkflowEventBinding),
    metadata: {
      ...(meta as WorkflowEventBinding["metadata"]),
      namespace: String(meta.namespace ?? "default"),
    },
    file,
    ...(line ? { line } : {}),
  };
}

/**
 * The WorkflowEventBindings of the config's `server.eventBindings` folder (`.yaml`, `.yml`, `.json` files),
 * of one namespace when given. The registry holds only templates and CronWorkflows, so bindings live in
 * files; they are read at every event, so an edit applies without a restart.
 */
export async function loadBindings(
  folder: string | undefined,
  namespace?: string,
): Promise<WorkflowEventBinding[]> {
  if (!folder) return [];
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  } catch (e) {
    throw bindingError(
      `server.eventBindings ${folder} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      folder,
    );
  }
  const out: WorkflowEventBinding[] = [];
  for (const n of names) {
    const file = join(folder, n);
    const text = await readFile(file, "utf8");
    const lines = new LineCounter();
    for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
      const line = doc.contents?.range ? lines.linePos(doc.contents.range[0]).line : undefined;
      const error = doc.errors[0];
      if (error)
        throw bindingError(`not valid YAML: ${error.message}`, file, error.linePos?.[0].line ?? line);
      if (doc.contents === null) continue;
      const binding = toBinding(doc.toJS(), file, line);
      if (namespace === undefined || binding.metadata.namespace === namespace) out.push(binding);
    }
  }
  return out;
}

/** Argo's `metadata` of an event: the request's `x-*` headers, lower-cased, each with its list of values. */
function eventMetadata(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (k.startsWith("x-") && v) out[k] = [...v];
  return out;
}

/** A compiled workflow stored Pending and handed to the server's runner: the path of a workflow create. */
export async function startCompiled(
  api: { store: Store; runner: WorkflowRunner },
  compiled: CompiledWorkflow,
  source: RunSource,
): Promise<string> {
  const meta = compiled.workflow.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await storeSubmitted(api.store, compiled, source);
  const namespace = meta.namespace ?? "default";
  await api.runner.take(namespace, meta.name ?? "");
  return `${namespace}/${meta.name ?? ""}`;
}

/** Evaluates an expression of a binding to a string (submit metadata values must be strings, as in Argo). */
function stringOf(
  binding: WorkflowEventBinding,
  what: string,
  expression: string,
  env: Record<string, unknown>,
) {
  const value = evaluateExpression(expression, env);
  if (typeof value !== "string")
    throw new SkiffError(
      EVENT_CODES["SKF-EVT-002"],
      `binding ${binding.metadata.name}: ${what} must evaluate to a string, got ${formatExpressionResult(value)}`,
    );
  return value;
}

/** Submits the binding's WorkflowTemplate with the parameters its expressions read from the event. */
async function submitFor(
  api: EventApi,
  binding: WorkflowEventBinding,
  env: Record<string, unknown>,
): Promise<string> {
  const submit = binding.spec.submit!;
  const { namespace } = binding.metadata;
  const parameters: Record<string, string> = {};
  for (const p of submit.arguments?.parameters ?? [])
    // Argo JSON-encodes the results: strings come out unquoted, anything else as JSON.
    parameters[p.name] = formatExpressionResult(evaluateExpression(p.valueFrom!.event!, env));
  const kind = submit.workflowTemplateRef.clusterScope ? "ClusterWorkflowTemplate" : "WorkflowTemplate";
  const name = submit.metadata?.name
    ? stringOf(binding, "submit.metadata.name", submit.metadata.name, env)
    : undefined;
  const selection = await selectRegistered(api.store, kind, namespace, submit.workflowTemplateRef.name, {
    parameters,
    ...(name ? { name } : {}),
    workflowDefaults: api.config.workflowDefaults,
  });
  const runnable = selection.runnables[0]!;
  const compiled = compileRunnable(selection, runnable);
  const meta = compiled.workflow.metadata;
  const labels: Record<string, string> = {};
  for (const [k, e] of Object.entries(submit.metadata?.labels ?? {}))
    labels[k] = stringOf(binding, `submit.metadata.labels.${k}`, e, env);
  const annotations: Record<string, string> = {};
  for (const [k, e] of Object.entries(submit.metadata?.annotations ?? {}))
    annotations[k] = stringOf(binding, `submit.metadata.annotations.${k}`, e, env);
  meta.labels = { ...meta.labels, ...labels, [BINDING_LABEL]: binding.metadata.name };
  if (Object.keys(annotations).length > 0) meta.annotations = { ...meta.annotations, ...annotations };
  return startCompiled(api, compiled, { ...runnable.source!, workspace: api.workspace });
}

/**
 * Argo's event dispatch, synchronous as Argo's default: every binding of the namespace whose selector is
 * true submits its template; any failure answers 500 `failed to dispatch event: [...]` after the others ran.
 */
export async function dispatchEvent(
  api: EventApi,
  namespace: string,
  discriminator: string,
  payload: unknown,
  metadata: Record<string, string[]>,
): Promise<string[]> {
  const bindings = await loadBindings(api.config.server?.eventBindings, namespace);
  const env = { payload, metadata, discriminator, namespace };
  const started: string[] = [];
  const failures: string[] = [];
  for (const binding of bindings) {
    try {
      if (!evaluateCondition(binding.spec.event.selector, env) || !binding.spec.submit) continue;
      started.push(await submitFor(api, binding, env));
    } catch (e) {
      const err = e as SkiffError;
      failures.push(
        `binding ${binding.metadata.name} (${binding.file}): ${err.code ? `${err.code} ` : ""}${err.message}`,
      );
    }
  }
  if (failures.length > 0)
    throw new ApiError(GRPC.Internal, `failed to dispatch event: [${failures.join("; ")}]`);
  return started;
}

/** Argo's EventService: `POST /api/v1/events/{namespace}/{discriminator}` and the bindings' list. */
export function eventRoutes(api: EventApi): Route[] {
  return [
    {
      method: "POST",
      path: "/api/v1/events/{namespace}/{discriminator}",
      access: "write",
      handler: async (ctx) => {
        const text = (await readRawBody(ctx.req)).toString("utf8");
        let payload: unknown = {};
        try {
          if (text.trim() !== "") payload = JSON.parse(text);
        } catch (e) {
          throw new SkiffError("SKF-SRV-002", `the event's payload is not JSON: ${(e as Error).message}`);
        }
        const { namespace = "", discriminator = "" } = ctx.params;
        await dispatchEvent(api, namespace, discriminator, payload, eventMetadata(ctx.req));
        return {};
      },
    },
    {
      method: "GET",
      path: "/api/v1/workflow-event-bindings/{namespace}",
      access: "read",
      handler: async (ctx) => {
        const items = await loadBindings(api.config.server?.eventBindings, ctx.params.namespace || undefined);
        return {
          metadata: {},
          items: items.map(({ file: _f, line: _l, ...b }) => b),
        };
      },
    },
  ];
}
