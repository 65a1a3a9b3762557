import { SkiffAggregateError, SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import { manifestOf, TemplateRegistry, type RegisteredObject, type RegistryKind } from "../run/registry.js";
import type { Route, RouteContext } from "./http.js";

/** What the registry routes work on. */
export interface RegistryApi {
  store: Store;
  /** Called after a CronWorkflow changed, so that the scheduler reads it at once. */
  onCronChange: () => void;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Where each kind is served and under which body field its object travels. */
interface KindRoutes {
  kind: RegistryKind;
  base: string;
  field: "template" | "cronWorkflow";
  namespaced: boolean;
}

const KINDS: KindRoutes[] = [
  {
    kind: "WorkflowTemplate",
    base: "/api/v1/workflow-templates/{namespace}",
    field: "template",
    namespaced: true,
  },
  {
    kind: "ClusterWorkflowTemplate",
    base: "/api/v1/cluster-workflow-templates",
    field: "template",
    namespaced: false,
  },
  {
    kind: "CronWorkflow",
    base: "/api/v1/cron-workflows/{namespace}",
    field: "cronWorkflow",
    namespaced: true,
  },
];

/**
 * The request's object as a manifest: Argo's clients may leave apiVersion and kind out (the route names the
 * kind); a namespaced object takes the path's namespace. `SKF-SRV-002` when the body has no object.
 */
async function objectOf(k: KindRoutes, ctx: RouteContext) {
  const body = await ctx.body();
  const given = body[k.field];
  if (!isRecord(given)) throw new SkiffError("SKF-SRV-002", `the request has no ${k.field}`);
  const metadata = isRecord(given.metadata) ? given.metadata : {};
  const namespace = ctx.params.namespace ?? "";
  const object = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: k.kind,
    ...given,
    metadata: k.namespaced ? { ...metadata, namespace: namespace || metadata.namespace } : metadata,
  };
  if (typeof object.metadata.name !== "string" || object.metadata.name === "")
    throw new SkiffError("SKF-SRV-002", `${k.field}.metadata.name is required`);
  return { manifest: manifestOf(object as RegisteredObject), namespace: namespace || "default" };
}

/** Argo's (Cluster)WorkflowTemplate and CronWorkflow services over the store's registry. */
export function registryRoutes(api: RegistryApi): Route[] {
  const registry = new TemplateRegistry(api.store);
  const routes: Route[] = [];
  for (const k of KINDS) {
    const cron = k.kind === "CronWorkflow";
    const changed = <T>(value: T): T => {
      if (cron) api.onCronChange();
      return value;
    };
    const namespaceOf = (ctx: RouteContext) => (k.namespaced ? ctx.params.namespace || "default" : "");
    routes.push(
      {
        method: "POST",
        path: `${k.base}/lint`,
        access: "read",
        handler: async (ctx) => {
          const { manifest, namespace } = await objectOf(k, ctx);
          const problems = await registry.lint([manifest], { namespace });
          if (problems.length > 0)
            throw new SkiffAggregateError("SKF-REG-004", problems, `${k.kind} is not valid`);
          return manifest.object;
        },
      },
      {
        method: "POST",
        path: k.base,
        access: "write",
        handler: async (ctx) => {
          const { manifest, namespace } = await objectOf(k, ctx);
          const [created] = await registry.create([manifest], { namespace, kind: k.kind });
          return changed(created);
        },
      },
      {
        method: "GET",
        path: k.base,
        access: "read",
        handler: async (ctx) => ({
          metadata: {},
          items: await registry.list(k.kind, k.namespaced ? namespaceOf(ctx) : undefined),
        }),
      },
      {
        method: "GET",
        path: `${k.base}/{name}`,
        access: "read",
        handler: (ctx) => registry.get(k.kind, namespaceOf(ctx), ctx.params.name ?? ""),
      },
      {
        method: "PUT",
        path: `${k.base}/{name}`,
        access: "write",
        handler: async (ctx) => {
          const { manifest, namespace } = await objectOf(k, ctx);
          if (manifest.object.kind !== k.kind)
            throw new SkiffError("SKF-SRV-002", `expected a ${k.kind}, found a ${manifest.object.kind}`);
          return changed(await registry.update(manifest, { namespace }));
        },
      },
      {
        method: "DELETE",
        path: `${k.base}/{name}`,
        access: "write",
        handler: async (ctx) => {
          await registry.delete(k.kind, namespaceOf(ctx), ctx.params.name ?? "");
          return changed({});
        },
      },
    );
    if (cron)
      for (const verb of ["suspend", "resume"] as const)
        routes.push({
          method: "PUT",
          path: `${k.base}/{name}/${verb}`,
          access: "write",
          handler: async (ctx) =>
            changed(await registry.setSuspended(namespaceOf(ctx), ctx.params.name ?? "", verb === "suspend")),
        });
  }
  return routes;
}
