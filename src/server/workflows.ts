import { randomUUID } from "node:crypto";
import { SkiffAggregateError, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import type { SkiffConfig } from "../config/index.js";
import { listRuns, sendCommand, type ControlCommand } from "../run/control.js";
import { collectBeforeDelete } from "../run/gc.js";
import { selectRegistered } from "../run/from-registry.js";
import { parseRegistryRef, TemplateRegistry } from "../run/registry.js";
import {
  prepareResubmit,
  prepareRetry,
  randomSuffix,
  storeSubmitted,
  type ParameterOverrides,
} from "../run/retry.js";
import { compileRunnable, selectObject, withRegistry } from "../run/select.js";
import { isCompleted } from "../run/watch.js";
import { ApiError, GRPC, type Route, type RouteContext } from "./http.js";
import {
  ARCHIVING_LABEL,
  cleanFields,
  compareWorkflows,
  parseListFilter,
  resolveName,
  withArgoLabels,
} from "./list.js";
import type { WorkflowRunner } from "./runner.js";

/** What the workflow routes work on. */
export interface WorkflowApi {
  config: SkiffConfig;
  store: Store;
  runner: WorkflowRunner;
  /** The folder steps of API-created workflows see as their workspace. */
  workspace: string;
}

const notFound = (name: string) => new ApiError(GRPC.NotFound, `workflows.argoproj.io "${name}" not found`);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `["name=value"]` of Argo's retry/resubmit `parameters`; `SKF-SRV-002` for a malformed one. */
function parameterPairs(value: unknown): ParameterOverrides {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
    throw new SkiffError("SKF-SRV-002", 'parameters must be a list of "name=value" strings');
  return value.map((p: string) => {
    const i = p.indexOf("=");
    if (i <= 0) throw new SkiffError("SKF-SRV-002", `parameter "${p}" is not of the form name=value`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

async function readLive(api: WorkflowApi, ctx: RouteContext): Promise<Workflow> {
  const { namespace = "", name = "" } = ctx.params;
  const wf = await api.store.get(namespace, await resolveName(api.store, namespace, name));
  if (!wf) throw notFound(name);
  return wf;
}

/**
 * Compiles a create/lint request's workflow, references resolved from the registry: `SKF-SPEC-*` problems
 * come back as one coded error.
 */
async function compileRequest(api: WorkflowApi, namespace: string, body: Record<string, unknown>) {
  const workflow = body.workflow;
  if (!isRecord(workflow)) throw new SkiffError("SKF-SRV-002", "the request has no workflow");
  const metadata = isRecord(workflow.metadata) ? workflow.metadata : {};
  // The API's body is a Workflow by its place: Argo's clients may leave apiVersion and kind out.
  const object = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    ...workflow,
    metadata: { ...metadata, namespace: metadata.namespace || namespace },
  };
  const where = `workflow ${namespace}/${String(metadata.name ?? metadata.generateName ?? "")}`;
  const selection = selectObject(object, where, {
    workspace: api.workspace,
    workflowDefaults: api.config.workflowDefaults,
  });
  const first = selection.rejected[0];
  if (first)
    throw selection.rejected.length > 1
      ? new SkiffAggregateError(
          "SKF-SRV-002",
          selection.rejected.map((r) => r.error),
        )
      : first.error;
  const runnable = selection.runnables[0]!;
  const registry = new TemplateRegistry(api.store);
  selection.library = await withRegistry([runnable.manifest], selection.library, (ns) =>
    registry.library(ns),
  );
  return { compiled: compileRunnable(selection, runnable), source: runnable.source! };
}

async function create(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const namespace = ctx.params.namespace ?? "";
  const body = await ctx.body();
  const { compiled, source } = await compileRequest(api, namespace, body);
  const meta = compiled.workflow.metadata;
  const createOptions = isRecord(body.createOptions) ? body.createOptions : {};
  const dryRun = Array.isArray(createOptions.dryRun) && createOptions.dryRun.length > 0;
  // A stored name is AlreadyExists whether or not something still runs it (as the Kubernetes API answers).
  if (await api.store.get(meta.namespace ?? namespace, meta.name ?? ""))
    throw new ApiError(GRPC.AlreadyExists, `workflows.argoproj.io "${meta.name}" already exists`);
  if (body.serverDryRun === true || dryRun) return compiled.workflow;
  meta.uid = randomUUID();
  meta.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const stored = await storeSubmitted(api.store, compiled, source);
  await api.runner.take(meta.namespace ?? namespace, meta.name ?? "");
  return withArgoLabels(stored);
}

async function list(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const namespace = ctx.params.namespace ?? "";
  const filter = parseListFilter(ctx.query, namespace);
  const live = (await listRuns(api.store, namespace || undefined))
    .map(withArgoLabels)
    .filter((w) => filter.matches(w));
  const uids = new Set(live.map((w) => w.metadata.uid));
  const archived = (await api.store.archiveList(namespace ? { namespace } : {}))
    .filter((w) => !uids.has(w.metadata.uid))
    .map((w) => {
      const labelled = withArgoLabels(w);
      labelled.metadata.labels = { ...labelled.metadata.labels, [ARCHIVING_LABEL]: "Persisted" };
      return labelled;
    })
    .filter((w) => filter.matches(w));
  const all = [...live.sort(compareWorkflows), ...archived.sort(compareWorkflows)];
  const end = filter.limit > 0 ? filter.offset + filter.limit : all.length;
  const items = all.slice(filter.offset, end).sort(compareWorkflows);
  const more = end < all.length;
  const body = {
    metadata: {
      ...(more ? { continue: String(end) } : {}),
      ...(filter.showRemainingItemCount ? { remainingItemCount: Math.max(0, all.length - end) } : {}),
    },
    items,
  };
  return cleanFields(body, ctx.query.get("fields"));
}

async function get(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const { namespace = "", name = "" } = ctx.params;
  const uid = ctx.query.get("uid");
  const resolved = await resolveName(api.store, namespace, name);
  let wf = await api.store.get(namespace, resolved);
  if (!wf || (uid && wf.metadata.uid !== uid)) {
    const archived = await api.store.archiveGet(namespace, resolved, uid ?? undefined);
    if (!archived) throw notFound(name);
    wf = archived;
  }
  return cleanFields(withArgoLabels(wf), ctx.query.get("fields"));
}

async function remove(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const wf = await readLive(api, ctx);
  const { namespace = "default", name = "" } = wf.metadata;
  await collectBeforeDelete(api.store, wf, api.config, ctx.query.get("force") === "true");
  await api.store.delete(namespace, name);
  return {};
}

async function lint(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const body = await ctx.body();
  try {
    return (await compileRequest(api, ctx.params.namespace ?? "", body)).compiled.workflow;
  } catch (e) {
    // Argo's quirk: a lint's validation error comes back raw, so as Unknown (500).
    if (e instanceof SkiffError && e.code !== "SKF-SRV-002") throw new ApiError(2, `${e.code} ${e.message}`);
    throw e;
  }
}

const SUBMITTABLE = new Set([
  "cronworkflow",
  "cronworkflows",
  "cronwf",
  "workflowtemplate",
  "workflowtemplates",
  "wftmpl",
  "clusterworkflowtemplate",
  "clusterworkflowtemplates",
  "cwftmpl",
]);

/** Argo's `k=v,k2=v2` of a submit's labels; `SKF-SRV-002` for a malformed pair. */
function labelPairs(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === "") return {};
  if (typeof value !== "string")
    throw new SkiffError("SKF-SRV-002", "submitOptions.labels must be a string k=v,...");
  return Object.fromEntries(
    value.split(",").map((pair) => {
      const i = pair.indexOf("=");
      if (i <= 0) throw new SkiffError("SKF-SRV-002", `label "${pair}" is not of the form key=value`);
      return [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
    }),
  );
}

/** Argo's submit from the registry: compiled as `skiff submit --from`, stored and run as a create. */
async function submit(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const namespace = ctx.params.namespace ?? "";
  const body = await ctx.body();
  const kind = typeof body.resourceKind === "string" ? body.resourceKind : "";
  if (!SUBMITTABLE.has(kind.toLowerCase()))
    throw new ApiError(GRPC.InvalidArgument, `Resource kind '${kind}' is not supported for submitting`);
  const ref = parseRegistryRef(`${kind}/${typeof body.resourceName === "string" ? body.resourceName : ""}`);
  const opts = isRecord(body.submitOptions) ? body.submitOptions : {};
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const generateName = text(opts.generateName);
  const name = text(opts.name) ?? (generateName ? generateName + randomSuffix() : undefined);
  const entrypoint = text(opts.entryPoint);
  const selection = await selectRegistered(api.store, ref.kind, namespace || "default", ref.name, {
    ...(entrypoint ? { entrypoint } : {}),
    parameters: Object.fromEntries(parameterPairs(opts.parameters)),
    ...(name ? { name } : {}),
    workflowDefaults: api.config.workflowDefaults,
  });
  const runnable = selection.runnables[0]!;
  const compiled = compileRunnable(selection, runnable);
  const meta = compiled.workflow.metadata;
  meta.labels = { ...meta.labels, ...labelPairs(opts.labels) };
  if (await api.store.get(meta.namespace ?? namespace, meta.name ?? ""))
    throw new ApiError(GRPC.AlreadyExists, `workflows.argoproj.io "${meta.name}" already exists`);
  if (opts.serverDryRun === true || opts.dryRun === true) return compiled.workflow;
  meta.uid = randomUUID();
  meta.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const stored = await storeSubmitted(api.store, compiled, { ...runnable.source!, workspace: api.workspace });
  await api.runner.take(meta.namespace ?? namespace, meta.name ?? "");
  return withArgoLabels(stored);
}

async function retry(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const body = await ctx.body();
  const wf = await readLive(api, ctx).catch(() => undefined);
  const { namespace = "" } = ctx.params;
  const name = wf?.metadata.name ?? ctx.params.name ?? "";
  const next = await prepareRetry(api.store, namespace, name, {
    restartSuccessful: body.restartSuccessful === true,
    ...(typeof body.nodeFieldSelector === "string" && body.nodeFieldSelector
      ? { nodeFieldSelector: body.nodeFieldSelector }
      : {}),
    parameters: parameterPairs(body.parameters),
  });
  await api.runner.take(namespace, name);
  return withArgoLabels(next);
}

async function resubmit(api: WorkflowApi, ctx: RouteContext): Promise<unknown> {
  const body = await ctx.body();
  const { namespace = "" } = ctx.params;
  const name = await resolveName(api.store, namespace, ctx.params.name ?? "");
  const next = await prepareResubmit(api.store, namespace, name, {
    memoized: body.memoized === true,
    parameters: parameterPairs(body.parameters),
  });
  await api.runner.take(namespace, next.metadata.name ?? "");
  return withArgoLabels(next);
}

/** Sends a control command to the process that runs the workflow, with Argo's refusals. */
function control(action: ControlCommand["action"]) {
  return async (api: WorkflowApi, ctx: RouteContext): Promise<unknown> => {
    const body = await ctx.body();
    const wf = await readLive(api, ctx);
    const { namespace = "default", name = "" } = wf.metadata;
    const selector =
      typeof body.nodeFieldSelector === "string" && body.nodeFieldSelector
        ? body.nodeFieldSelector
        : undefined;
    const cmd: ControlCommand = { action, ...(selector ? { nodeFieldSelector: selector } : {}) };
    if (action === "suspend" && isCompleted(wf))
      throw new ApiError(GRPC.InvalidArgument, "cannot suspend completed workflows");
    if ((action === "stop" || action === "terminate") && isCompleted(wf))
      throw new ApiError(
        2,
        `cannot shutdown a completed workflow: workflow: ${name}, namespace: ${namespace}`,
      );
    if (action === "set") {
      if (!selector) throw new ApiError(2, "nodeFieldSelector is required");
      const phase = typeof body.phase === "string" ? body.phase : "";
      if (!["", "Succeeded", "Failed", "Error"].includes(phase))
        throw new ApiError(GRPC.InvalidArgument, `unable to set workflow node phase to ${phase}`);
      if (typeof body.outputParameters === "string" && body.outputParameters !== "") {
        let values: unknown;
        try {
          values = JSON.parse(body.outputParameters);
        } catch (e) {
          throw new ApiError(
            GRPC.InvalidArgument,
            `unable to parse output parameter set request: ${(e as Error).message}`,
          );
        }
        if (!isRecord(values))
          throw new ApiError(GRPC.InvalidArgument, "outputParameters must be a JSON object");
        cmd.outputParameters = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
      }
      if (phase === "Failed" || phase === "Error")
        throw new ApiError(GRPC.Unimplemented, `setting a node's phase to ${phase} is not supported yet`);
      if (cmd.outputParameters) await sendCommand(api.store, namespace, name, cmd);
      if (phase === "Succeeded")
        await sendCommand(api.store, namespace, name, { action: "resume", nodeFieldSelector: selector });
    } else await sendCommand(api.store, namespace, name, cmd);
    return withArgoLabels((await api.store.get(namespace, name)) ?? wf);
  };
}

/** Argo's WorkflowService routes, but for the streams (`streams.ts`). */
export function workflowRoutes(api: WorkflowApi): Route[] {
  const bind = (fn: (api: WorkflowApi, ctx: RouteContext) => Promise<unknown>) => (ctx: RouteContext) =>
    fn(api, ctx);
  const base = "/api/v1/workflows/{namespace}";
  const action = (verb: string, fn: (api: WorkflowApi, ctx: RouteContext) => Promise<unknown>): Route => ({
    method: "PUT",
    path: `${base}/{name}/${verb}`,
    access: "write",
    handler: bind(fn),
  });
  return [
    { method: "POST", path: `${base}/lint`, access: "read", handler: bind(lint) },
    { method: "POST", path: `${base}/submit`, access: "write", handler: bind(submit) },
    { method: "POST", path: base, access: "write", handler: bind(create) },
    { method: "GET", path: base, access: "read", handler: bind(list) },
    { method: "GET", path: `${base}/{name}`, access: "read", handler: bind(get) },
    { method: "DELETE", path: `${base}/{name}`, access: "write", handler: bind(remove) },
    action("retry", retry),
    action("resubmit", resubmit),
    action("suspend", control("suspend")),
    action("resume", control("resume")),
    action("stop", control("stop")),
    action("terminate", control("terminate")),
    action("set", control("set")),
  ];
}
