import type { ServerResponse } from "node:http";
import type { Store } from "../../runtime/interfaces/store.js";
import { podName } from "../../runtime/spec/index.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { listRuns } from "../run/control.js";
import { COMMAND_NAMESPACE, isCommandRecord } from "../run/store.js";
import { VERSION } from "../version.js";
import { ApiError, GRPC, type Route, type RouteContext } from "./http.js";
import { cleanFields, parseListFilter, resolveName, withArgoLabels } from "./list.js";

/** Argo's stream framing: newline-delimited `{"result": ...}`, or server-sent events when asked for. */
class ResultStream {
  private readonly sse: boolean;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    accept: string | undefined,
    private readonly fields: string | null,
  ) {
    this.sse = accept === "text/event-stream";
    res.writeHead(200, {
      "Content-Type": this.sse ? "text/event-stream" : "application/json",
      "Cache-Control": "no-cache",
      "Grpc-Metadata-Argo-Version": VERSION,
    });
    res.flushHeaders();
    if (this.sse) {
      this.keepAlive = setInterval(() => res.write(":\n\n"), 15_000);
      this.keepAlive.unref();
    }
  }

  send(result: unknown): void {
    const frame = JSON.stringify(cleanFields({ result }, this.fields));
    this.res.write(this.sse ? `data: ${frame}\n\n` : `${frame}\n`);
  }

  end(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.res.end();
  }
}

/** `GET /api/v1/workflow-events/{namespace}`: Argo's WatchWorkflows over the store's watch. */
function watchWorkflows(store: Store) {
  return async (ctx: RouteContext): Promise<undefined> => {
    const namespace = ctx.params.namespace ?? "";
    const filter = parseListFilter(ctx.query, namespace);
    const stream = new ResultStream(ctx.res, ctx.req.headers.accept, ctx.query.get("fields"));
    const seen = new Set<string>();
    const keyOf = (wf: Workflow) => `${wf.metadata.namespace}/${wf.metadata.name}`;
    const versions = new Map<string, string>();
    const emit = (type: "ADDED" | "MODIFIED" | "DELETED", raw: Workflow) => {
      if (raw.metadata.namespace === COMMAND_NAMESPACE || isCommandRecord(raw)) return;
      const wf = withArgoLabels(raw);
      const key = keyOf(wf);
      if (!filter.matches(wf) && !seen.has(key)) return;
      if (type === "DELETED") {
        seen.delete(key);
        versions.delete(key);
      } else {
        // The store's watch may repeat a version (its own poll and another process's event).
        const version = wf.metadata.resourceVersion ?? "";
        if (version && versions.get(key) === version) return;
        versions.set(key, version);
        if (!seen.has(key)) type = "ADDED";
        seen.add(key);
      }
      stream.send({ type, object: wf });
    };
    // Changes made while the current state is read are queued, then sent after it.
    const queued: { type: "put" | "delete"; workflow: Workflow }[] = [];
    let replaying = true;
    const unwatch = store.watch((e) => {
      if (replaying) queued.push(e);
      else emit(e.type === "delete" ? "DELETED" : "MODIFIED", e.workflow);
    });
    ctx.req.on("close", () => {
      unwatch();
      stream.end();
    });
    const resourceVersion = ctx.query.get("listOptions.resourceVersion");
    for (const wf of await listRuns(store, namespace || undefined)) {
      if (resourceVersion) {
        // A watch from a list's version sends only what changes after it.
        seen.add(keyOf(wf));
        versions.set(keyOf(wf), wf.metadata.resourceVersion ?? "");
      } else emit("ADDED", wf);
    }
    replaying = false;
    for (const e of queued.splice(0)) emit(e.type === "delete" ? "DELETED" : "MODIFIED", e.workflow);
    return undefined;
  };
}

/** `GET .../{name}/log` and `.../{name}/{podName}/log`: the stored step logs as Argo's LogEntry stream. */
function workflowLogs(store: Store) {
  return async (ctx: RouteContext): Promise<undefined> => {
    const namespace = ctx.params.namespace ?? "";
    const name = await resolveName(store, namespace, ctx.params.name ?? "");
    const wf = await store.get(namespace, name);
    if (!wf) throw new ApiError(GRPC.NotFound, `workflows.argoproj.io "${name}" not found`);
    const q = ctx.query;
    const wantedPod = ctx.params.podName || q.get("podName") || undefined;
    const container = q.get("logOptions.container") || undefined;
    const follow = q.get("logOptions.follow") === "true";
    const timestamps = q.get("logOptions.timestamps") === "true";
    const sinceSeconds = Number(q.get("logOptions.sinceSeconds") ?? "");
    let grep: RegExp | undefined;
    try {
      grep = q.get("grep") ? new RegExp(q.get("grep")!) : undefined;
    } catch (e) {
      throw new ApiError(
        GRPC.InvalidArgument,
        `grep is not a valid regular expression: ${(e as Error).message}`,
      );
    }
    const pods = new Map<string, string>();
    const podOf = async (nodeId: string): Promise<string> => {
      let pod = pods.get(nodeId);
      if (pod !== undefined) return pod;
      const current = (await store.get(namespace, name)) ?? wf;
      const node = current.status?.nodes?.[nodeId];
      pod = node ? podName(name, node.name, node.templateName ?? "") : nodeId;
      pods.set(nodeId, pod);
      return pod;
    };
    const stream = new ResultStream(ctx.res, ctx.req.headers.accept, null);
    const abort = new AbortController();
    ctx.req.on("close", () => abort.abort());
    try {
      for await (const line of store.readLogs(namespace, name, {
        follow,
        signal: abort.signal,
        ...(container ? { container } : {}),
        ...(sinceSeconds > 0 ? { since: new Date(Date.now() - sinceSeconds * 1000).toISOString() } : {}),
      })) {
        const pod = await podOf(line.nodeId);
        if (wantedPod && pod !== wantedPod) continue;
        if (grep && !grep.test(line.text)) continue;
        stream.send({ content: timestamps ? `${line.time} ${line.text}` : line.text, podName: pod });
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
    stream.end();
    return undefined;
  };
}

/** The streaming routes of Argo's WorkflowService. */
export function streamRoutes(store: Store): Route[] {
  const logs = workflowLogs(store);
  return [
    {
      method: "GET",
      path: "/api/v1/workflow-events/{namespace}",
      access: "read",
      handler: watchWorkflows(store),
    },
    { method: "GET", path: "/api/v1/workflows/{namespace}/{name}/log", access: "read", handler: logs },
    {
      method: "GET",
      path: "/api/v1/workflows/{namespace}/{name}/{podName}/log",
      access: "read",
      handler: logs,
    },
  ];
}
