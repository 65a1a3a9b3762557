// A double of Argo's REST API (the routes the UI calls), for the UI's browser tests until they run against
// the real `skiff server`. It keeps workflows, templates, cron workflows and an archive in memory, "runs" a
// workflow's steps by advancing node phases on a timer (a leaf's script: `echo` lines are its log, `exit N`
// its exit code), streams workflow events and logs as Argo frames them, and checks every request body and
// every answer against the server's swagger (SwaggerContract): a mismatch is recorded in `violations`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeId, podName } from "../../../runtime/spec/index.js";
import type { SwaggerContract } from "./swagger-contract.js";

type Json = Record<string, any>;

export interface DoubleOptions {
  contract: SwaggerContract;
  /** When set, every /api/ and artifact call needs `Authorization: Bearer <token>` (or Argo's cookie). */
  token?: string;
  /** Time between two steps of a running workflow. */
  tickMs?: number;
  /** Check traffic against the swagger (default true; the benchmark turns it off to time the UI alone). */
  check?: boolean;
}

/** One request the double received. */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: any;
}

// A 1x1 PNG, for image previews.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

export class ArgoApiDouble {
  readonly received: ReceivedRequest[] = [];
  readonly violations: string[] = [];
  readonly workflows = new Map<string, Json>();
  readonly templates = new Map<string, Json>();
  readonly clusterTemplates = new Map<string, Json>();
  readonly crons = new Map<string, Json>();
  readonly archived = new Map<string, Json>();
  private readonly watchers = new Set<{ ns: string; name?: string; res: ServerResponse }>();
  private readonly logs = new Map<string, string[]>();
  private readonly artifacts = new Map<string, Buffer>();
  private readonly server: Server;
  private timer: NodeJS.Timeout | undefined;
  private rv = 1;
  private seq = 0;
  url = "";

  constructor(private readonly options: DoubleOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 250);
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const w of this.watchers) w.res.end();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Requests matching a method and a path (string: exact, RegExp: test). */
  requests(method: string, path: string | RegExp): ReceivedRequest[] {
    return this.received.filter(
      (r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)),
    );
  }

  /** Stores a workflow as is (status included) and tells the watchers: for seeding and benchmarks. */
  putWorkflow(wf: Json, type: "ADDED" | "MODIFIED" = "ADDED"): void {
    wf.metadata.resourceVersion = String(++this.rv);
    this.workflows.set(`${wf.metadata.namespace}/${wf.metadata.name}`, wf);
    this.emit(type, wf);
  }

  // ---- the simulated controller -------------------------------------------------------------------

  private createWorkflow(ns: string, input: Json, labels: Record<string, string> = {}): Json {
    const name =
      input.metadata?.name ??
      `${input.metadata?.generateName ?? "wf-"}${(++this.seq).toString(36).padStart(5, "x")}`;
    const spec = structuredClone(input.spec ?? {});
    const wf: Json = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: {
        name,
        namespace: ns,
        uid: `uid-${name}`,
        creationTimestamp: new Date().toISOString(),
        labels: { ...(input.metadata?.labels ?? {}), ...labels, "workflows.argoproj.io/phase": "Running" },
      },
      spec,
      status: { phase: "Running", startedAt: new Date().toISOString(), progress: "0/0", nodes: {} },
    };
    const templates = this.templatesOf(wf);
    const entry = spec.entrypoint ?? templates[0]?.name;
    const params = new Map<string, string>(
      (spec.arguments?.parameters ?? []).map((p: Json) => [p.name, p.value ?? ""]),
    );
    const root = this.addNode(wf, name, { type: "Steps", templateName: entry, displayName: name });
    const steps: Json[][] = templates.find((t) => t.name === entry)?.steps ?? [];
    let previous: Json[] = [root];
    steps.forEach((group, i) => {
      const g = this.addNode(wf, `${name}[${i}]`, {
        type: "StepGroup",
        displayName: `[${i}]`,
        boundaryID: root.id,
      });
      for (const p of previous) p.children = [...(p.children ?? []), g.id];
      const leaves: Json[] = [];
      for (const step of group) {
        const items: unknown[] = step.withItems ?? [undefined];
        items.forEach((item, j) => {
          const display = item === undefined ? step.name : `${step.name}(${j}:${String(item)})`;
          const leaf = this.addNode(wf, `${name}[${i}].${display}`, {
            type: "Pod",
            templateName: step.template,
            displayName: display,
            boundaryID: root.id,
          });
          const template = templates.find((t) => t.name === step.template) ?? {};
          leaf.inputs =
            item === undefined ? undefined : { parameters: [{ name: "item", value: String(item) }] };
          if (!leaf.inputs) delete leaf.inputs;
          this.script.set(leaf.id, {
            source: substitute(template.script?.source ?? "", params, item),
            template,
          });
          g.children = [...(g.children ?? []), leaf.id];
          leaves.push(leaf);
        });
      }
      previous = leaves;
    });
    root.outboundNodes = previous.map((n) => n.id);
    this.progress(wf);
    this.putWorkflow(wf);
    return wf;
  }

  private readonly script = new Map<string, { source: string; template: Json }>();

  private addNode(wf: Json, nodeName: string, fields: Json): Json {
    const node = { id: nodeId(wf.metadata.name, nodeName), name: nodeName, phase: "Pending", ...fields };
    wf.status.nodes[node.id] = node;
    return node;
  }

  private templatesOf(wf: Json): Json[] {
    const ref = wf.spec.workflowTemplateRef;
    if (!ref) return wf.spec.templates ?? [];
    const t = ref.clusterScope
      ? this.clusterTemplates.get(ref.name)
      : this.templates.get(`${wf.metadata.namespace}/${ref.name}`);
    return t?.spec?.templates ?? [];
  }

  /** One step of every running workflow: the first unfinished group's leaves start, then finish. */
  private tick(): void {
    for (const wf of this.workflows.values()) {
      if (wf.status?.phase !== "Running" || wf.spec.suspend || !wf.status.nodes) continue;
      if (wf.spec.shutdown) {
        this.finish(wf, "Failed", `Stopped with strategy '${wf.spec.shutdown}'`);
        continue;
      }
      const nodes: Json[] = Object.values(wf.status.nodes);
      const root = wf.status.nodes[wf.metadata.name];
      const group = nodes.find(
        (n) => n.type === "StepGroup" && n.phase !== "Succeeded" && n.phase !== "Failed",
      );
      if (!group) {
        this.finish(wf, "Succeeded");
        continue;
      }
      const leaves: Json[] = (group.children ?? []).map((id: string) => wf.status.nodes[id]);
      const now = new Date().toISOString();
      if (leaves.some((l) => l.phase === "Pending")) {
        for (const n of [root, group, ...leaves])
          if (n.phase === "Pending") Object.assign(n, { phase: "Running", startedAt: now });
      } else if (leaves.some((l) => l.phase === "Running")) {
        for (const leaf of leaves.filter((l) => l.phase === "Running")) this.runLeaf(wf, leaf, now);
        const failed = leaves.some((l) => l.phase === "Failed");
        Object.assign(group, { phase: failed ? "Failed" : "Succeeded", finishedAt: now });
        if (failed) this.finish(wf, "Failed", "child failed");
      }
      this.progress(wf);
      this.putWorkflow(wf, "MODIFIED");
    }
  }

  private runLeaf(wf: Json, leaf: Json, now: string): void {
    const { source, template } = this.script.get(leaf.id) ?? { source: "", template: {} };
    const lines: string[] = [];
    let exitCode = 0;
    for (const line of source.split("\n")) {
      const echo = /^\s*echo\s+(?:-e\s+)?"?(.*?)"?\s*$/.exec(line);
      const exit = /^\s*exit\s+(\d+)/.exec(line);
      if (echo) lines.push((echo[1] ?? "").replaceAll("\\033", "\u001b").replaceAll("\\e", "\u001b"));
      else if (exit) {
        exitCode = Number(exit[1]);
        break;
      }
    }
    this.logs.set(podName(wf.metadata.name, leaf.name, leaf.templateName ?? ""), lines);
    const artifacts = (template.outputs?.artifacts ?? []).map((a: Json) => {
      const content = String(a.path).endsWith(".png") ? PNG : Buffer.from(lines.join("\n") + "\n");
      this.artifacts.set(`${wf.metadata.namespace}/${wf.metadata.name}/${leaf.id}/${a.name}`, content);
      return { name: a.name, path: a.path, s3: { key: `${wf.metadata.name}/${leaf.id}/${a.name}` } };
    });
    Object.assign(leaf, {
      phase: exitCode === 0 ? "Succeeded" : "Failed",
      finishedAt: now,
      message: exitCode === 0 ? undefined : `Error (exit code ${exitCode})`,
      outputs: { exitCode: String(exitCode), ...(artifacts.length ? { artifacts } : {}) },
      resourcesDuration: { cpu: 1, memory: 1 },
      hostNodeName: "skiff-host",
    });
    if (leaf.message === undefined) delete leaf.message;
  }

  private finish(wf: Json, phase: string, message?: string): void {
    const now = new Date().toISOString();
    const root = wf.status.nodes[wf.metadata.name];
    if (root) Object.assign(root, { phase, finishedAt: now });
    for (const n of Object.values(wf.status.nodes) as Json[])
      if (n.phase === "Running" || n.phase === "Pending")
        n.phase = phase === "Succeeded" ? "Succeeded" : "Failed";
    Object.assign(wf.status, { phase, finishedAt: now, ...(message ? { message } : {}) });
    wf.metadata.labels["workflows.argoproj.io/phase"] = phase;
    wf.metadata.labels["workflows.argoproj.io/completed"] = "true";
    this.progress(wf);
    this.putWorkflow(wf, "MODIFIED");
  }

  private progress(wf: Json): void {
    const leaves = (Object.values(wf.status.nodes) as Json[]).filter((n) => n.type === "Pod");
    wf.status.progress = `${leaves.filter((n) => n.phase === "Succeeded").length}/${leaves.length}`;
  }

  private retry(wf: Json): void {
    for (const n of Object.values(wf.status.nodes) as Json[]) {
      if (n.phase === "Failed" || n.phase === "Error") {
        Object.assign(n, { phase: n.type === "Pod" ? "Pending" : "Running" });
        delete n.finishedAt;
        delete n.message;
        delete n.outputs;
      }
    }
    // Argo's retry runs the failed steps again, with the same inputs.
    const group = (Object.values(wf.status.nodes) as Json[]).find(
      (n) => n.type === "StepGroup" && n.phase === "Running",
    );
    if (group) group.phase = "Pending";
    Object.assign(wf.status, { phase: "Running" });
    delete wf.status.finishedAt;
    delete wf.status.message;
    wf.metadata.labels["workflows.argoproj.io/phase"] = "Running";
    delete wf.metadata.labels["workflows.argoproj.io/completed"];
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private emit(type: string, wf: Json): void {
    for (const w of this.watchers) {
      if (w.ns && w.ns !== wf.metadata.namespace) continue;
      if (w.name && w.name !== wf.metadata.name) continue;
      this.frame(w.res, "/api/v1/workflow-events/{namespace}", { type, object: wf });
    }
  }

  private frame(res: ServerResponse, template: string, result: unknown): void {
    if (this.options.check === false) return void res.write(`${JSON.stringify({ result })}\n`);
    const route = this.options.contract.route(
      "GET",
      template.replace("{namespace}", "x").replace("{name}", "x"),
    );
    if (route) this.violations.push(...this.options.contract.check(route, "response", { result }));
    res.write(`${JSON.stringify({ result })}\n`);
  }

  private authorized(req: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    const cookie = /(?:^|;\s*)authorization=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
    return (
      req.headers.authorization === `Bearer ${token}` ||
      (cookie !== undefined && decodeURIComponent(cookie) === `Bearer ${token}`)
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return this.reply(res, 400, { code: 3, message: "invalid JSON body" });
    }
    this.received.push({ method, path: url.pathname, query: url.searchParams, body });
    const route = this.options.contract.route(method, url.pathname);
    if (!route) {
      this.violations.push(`${method} ${url.pathname}: not a route of Argo's API`);
      return this.reply(res, 404, { code: 5, message: "Not Found" });
    }
    if (body !== undefined) this.violations.push(...this.options.contract.check(route, "request", body));
    if (!this.authorized(req)) return this.reply(res, 401, { code: 16, message: "Unauthorized" });
    const seg = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const answer = (status: number, value: unknown): void => {
      if (status === 200 && this.options.check !== false)
        this.violations.push(...this.options.contract.check(route, "response", value));
      this.reply(res, status, value);
    };
    const notFound = (): void => answer(404, { code: 5, message: "not found" });
    try {
      this.route(req, res, url, seg, body, answer, notFound);
    } catch (e) {
      answer(500, { code: 2, message: String(e) });
    }
  }

  private route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    seg: string[],
    body: any,
    answer: (status: number, value: unknown) => void,
    notFound: () => void,
  ): void {
    const method = req.method;
    const q = url.searchParams;
    const [, , kind, ns = "", name, action] = seg;
    if (seg[0] === "artifact-files") {
      const [, ans, , id, node, , art] = seg;
      const content = this.artifacts.get(`${ans}/${id}/${node}/${art}`);
      if (!content) return notFound();
      res.writeHead(200, {
        "Content-Type": content.subarray(0, 4).equals(PNG.subarray(0, 4))
          ? "image/png"
          : "text/plain; charset=utf-8",
        "Content-Disposition": `attachment; filename="${art}"`,
      });
      res.end(content);
      return;
    }
    if (kind === "userinfo") return answer(200, {});
    if (kind === "info") return answer(200, { managedNamespace: "" });
    if (kind === "version") return answer(200, { version: "v0.1.0-skiff" });
    if (kind === "workflow-events") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      const field = q.get("listOptions.fieldSelector") ?? "";
      const wname = /metadata\.name=([^,]+)/.exec(field)?.[1];
      const watcher = { ns, ...(wname ? { name: wname } : {}), res };
      this.watchers.add(watcher);
      // The response closes when the client goes away (the request itself "closes" once its body is read).
      res.on("close", () => this.watchers.delete(watcher));
      // A Kubernetes watch from a resourceVersion first sends what changed since then.
      const since = Number(q.get("listOptions.resourceVersion") ?? "");
      if (since > 0) {
        for (const wf of this.workflows.values()) {
          if (Number(wf.metadata.resourceVersion) <= since) continue;
          if ((ns && wf.metadata.namespace !== ns) || (wname && wf.metadata.name !== wname)) continue;
          this.frame(res, "/api/v1/workflow-events/{namespace}", { type: "MODIFIED", object: wf });
        }
      }
      return;
    }
    if (kind === "workflows") {
      const key = `${ns}/${name}`;
      const wf = this.workflows.get(key);
      if (name === "submit" && method === "POST") {
        const source =
          body.resourceKind === "CronWorkflow"
            ? { spec: this.crons.get(`${ns}/${body.resourceName}`)?.spec.workflowSpec }
            : {
                spec: {
                  workflowTemplateRef: {
                    name: body.resourceName,
                    ...(body.resourceKind === "ClusterWorkflowTemplate" ? { clusterScope: true } : {}),
                  },
                },
              };
        const base =
          body.resourceKind === "ClusterWorkflowTemplate"
            ? this.clusterTemplates.get(body.resourceName)
            : body.resourceKind === "CronWorkflow"
              ? this.crons.get(`${ns}/${body.resourceName}`)
              : this.templates.get(`${ns}/${body.resourceName}`);
        if (!base || !source.spec) return notFound();
        const baseSpec = body.resourceKind === "CronWorkflow" ? base.spec.workflowSpec : base.spec;
        const given = new Map<string, string>(
          (body.submitOptions?.parameters ?? []).map((p: string) => [
            p.slice(0, p.indexOf("=")),
            p.slice(p.indexOf("=") + 1),
          ]),
        );
        const parameters = (baseSpec.arguments?.parameters ?? []).map((p: Json) => ({
          name: p.name,
          value: given.get(p.name) ?? p.value ?? "",
        }));
        const label =
          {
            WorkflowTemplate: "workflow-template",
            ClusterWorkflowTemplate: "cluster-workflow-template",
            CronWorkflow: "cron-workflow",
          }[body.resourceKind as string] ?? "workflow-template";
        const created = this.createWorkflow(
          ns,
          {
            metadata: { generateName: `${body.resourceName}-` },
            spec: {
              ...source.spec,
              ...(body.submitOptions?.entryPoint
                ? { entrypoint: body.submitOptions.entryPoint }
                : { entrypoint: baseSpec.entrypoint }),
              arguments: { parameters },
            },
          },
          { [`workflows.argoproj.io/${label}`]: body.resourceName },
        );
        return answer(200, created);
      }
      if (!name && method === "GET") {
        let items = [...this.workflows.values()].filter((w) => !ns || w.metadata.namespace === ns);
        const selector = q.get("listOptions.labelSelector") ?? "";
        const phases = /workflows\.argoproj\.io\/phase in \(([^)]*)\)/.exec(selector)?.[1]?.split(",");
        if (phases) items = items.filter((w) => phases.includes(w.status?.phase));
        for (const [, k, v] of selector.replace(/[^,]* in \([^)]*\)/, "").matchAll(/([^,=\s]+)=([^,]+)/g))
          items = items.filter((w) => w.metadata.labels?.[k as string] === v);
        const nameSel = /metadata\.name=([^,]+)/.exec(q.get("listOptions.fieldSelector") ?? "")?.[1];
        if (nameSel)
          items = items.filter((w) =>
            q.get("nameFilter") === "Contains"
              ? w.metadata.name.includes(nameSel)
              : w.metadata.name === nameSel,
          );
        return answer(200, { metadata: { resourceVersion: String(this.rv) }, items });
      }
      if (!name && method === "POST") return answer(200, this.createWorkflow(ns, body.workflow));
      if (!wf) return notFound();
      if (action === "log") {
        res.writeHead(200, { "Content-Type": "application/json" });
        const pod = q.get("podName") ?? "";
        for (const line of this.logs.get(pod) ?? [])
          this.frame(res, "/api/v1/workflows/{namespace}/{name}/log", { content: line, podName: pod });
        res.end();
        return;
      }
      if (method === "GET") return answer(200, wf);
      if (method === "DELETE") {
        this.workflows.delete(key);
        this.emit("DELETED", wf);
        return answer(200, {});
      }
      if (action === "retry") {
        if (wf.status.phase !== "Failed" && wf.status.phase !== "Error")
          return answer(400, { code: 3, message: `Cannot retry a workflow in phase ${wf.status.phase}` });
        this.retry(wf);
      } else if (action === "resubmit")
        return answer(
          200,
          this.createWorkflow(
            ns,
            { metadata: { generateName: `${wf.metadata.name}-` }, spec: resubmitSpec(wf.spec) },
            { "workflows.argoproj.io/resubmitted-from-workflow": wf.metadata.name },
          ),
        );
      else if (action === "suspend") wf.spec.suspend = true;
      else if (action === "resume") delete wf.spec.suspend;
      else if (action === "stop" || action === "terminate") {
        if (wf.status.phase !== "Running")
          return answer(500, { code: 2, message: "cannot shutdown a completed workflow" });
        wf.spec.shutdown = action === "stop" ? "Stop" : "Terminate";
      }
      this.putWorkflow(wf, "MODIFIED");
      return answer(200, wf);
    }
    if (kind === "workflow-templates" || kind === "cluster-workflow-templates") {
      const cluster = kind === "cluster-workflow-templates";
      const store = cluster ? this.clusterTemplates : this.templates;
      const tname = cluster ? ns : name;
      const key = cluster ? tname : `${ns}/${tname}`;
      if (!tname && method === "GET")
        return answer(200, {
          metadata: {},
          items: [...store.values()].filter((t) => cluster || t.metadata.namespace === ns),
        });
      if (!tname && method === "POST") {
        const t = {
          ...body.template,
          metadata: {
            ...body.template.metadata,
            ...(cluster ? {} : { namespace: ns }),
            creationTimestamp: new Date().toISOString(),
            uid: `uid-t-${++this.seq}`,
          },
        };
        store.set(cluster ? t.metadata.name : `${ns}/${t.metadata.name}`, t);
        return answer(200, t);
      }
      const t = store.get(key as string);
      if (!t) return notFound();
      if (method === "DELETE") {
        store.delete(key as string);
        return answer(200, {});
      }
      return answer(200, t);
    }
    if (kind === "cron-workflows") {
      const key = `${ns}/${name}`;
      if (!name && method === "GET")
        return answer(200, {
          metadata: {},
          items: [...this.crons.values()].filter((c) => c.metadata.namespace === ns),
        });
      if (!name && method === "POST") {
        const c = {
          ...body.cronWorkflow,
          metadata: {
            ...body.cronWorkflow.metadata,
            namespace: ns,
            creationTimestamp: new Date().toISOString(),
          },
        };
        this.crons.set(`${ns}/${c.metadata.name}`, c);
        return answer(200, c);
      }
      const c = this.crons.get(key);
      if (!c) return notFound();
      if (method === "DELETE") {
        this.crons.delete(key);
        return answer(200, {});
      }
      if (action === "suspend") c.spec.suspend = true;
      if (action === "resume") c.spec.suspend = false;
      return answer(200, c);
    }
    if (kind === "archived-workflows") {
      const uid = ns;
      if (!uid)
        return answer(200, {
          metadata: {},
          items: [...this.archived.values()].filter(
            (w) => !q.get("namespace") || w.metadata.namespace === q.get("namespace"),
          ),
        });
      const wf = this.archived.get(uid);
      if (!wf) return notFound();
      if (method === "DELETE") {
        this.archived.delete(uid);
        return answer(200, {});
      }
      if (name === "retry" || name === "resubmit") {
        return answer(
          200,
          this.createWorkflow(wf.metadata.namespace, {
            metadata: { generateName: `${wf.metadata.name}-` },
            spec: resubmitSpec(wf.spec),
          }),
        );
      }
      return answer(200, wf);
    }
    notFound();
  }

  private reply(res: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    res.writeHead(status, {
      "Content-Type": "application/json",
      ...(status === 200 ? { "Grpc-Metadata-Argo-Version": "v0.1.0-skiff" } : {}),
    });
    res.end(text);
  }
}

function substitute(source: string, params: Map<string, string>, item: unknown): string {
  return source.replace(
    /\{\{\s*(workflow\.parameters\.([\w-]+)|item)\s*\}\}/g,
    (_m, _all: string, p: string | undefined) => (p ? (params.get(p) ?? "") : String(item ?? "")),
  );
}

/** Argo's resubmit copies the spec without the shutdown and suspend of the old run. */
function resubmitSpec(spec: Json): Json {
  const { shutdown: _shutdown, suspend: _suspend, ...rest } = spec;
  return rest;
}
