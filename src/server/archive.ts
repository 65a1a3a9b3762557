import type { Store } from "../../runtime/interfaces/store.js";
import type { Workflow } from "../../runtime/spec/types.js";
import { ApiError, GRPC, type Route, type RouteContext } from "./http.js";
import { cleanFields, compareWorkflows, parseListFilter, withArgoLabels } from "./list.js";

/** Finds an archived run by uid (and namespace/name when given). */
async function findArchived(store: Store, ctx: RouteContext): Promise<Workflow> {
  const uid = ctx.params.uid ?? "";
  const namespace = ctx.query.get("namespace") || undefined;
  const name = ctx.query.get("name") || undefined;
  const found =
    namespace && name
      ? await store.archiveGet(namespace, name, uid)
      : (await store.archiveList(namespace ? { namespace } : {})).find((w) => w.metadata.uid === uid);
  if (!found) throw new ApiError(GRPC.NotFound, "not found");
  return found;
}

/** Argo's ArchivedWorkflowService over the store's archive: list, get, delete. */
export function archiveRoutes(store: Store): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/archived-workflows",
      access: "read",
      handler: async (ctx) => {
        const namespace = ctx.query.get("namespace") ?? "";
        const filter = parseListFilter(ctx.query, namespace);
        const prefix = ctx.query.get("namePrefix") ?? "";
        const all = (await store.archiveList(namespace ? { namespace } : {}))
          .map(withArgoLabels)
          .filter((w) => filter.matches(w) && (w.metadata.name ?? "").startsWith(prefix))
          .sort(compareWorkflows);
        const end = filter.limit > 0 ? filter.offset + filter.limit : all.length;
        const more = end < all.length;
        // Argo's Go encoding gives `null` for an empty page; its API description says a list, which this follows.
        const items = all.slice(filter.offset, end);
        return cleanFields(
          {
            metadata: {
              ...(more ? { continue: String(end) } : {}),
              ...(filter.showRemainingItemCount ? { remainingItemCount: all.length - end } : {}),
            },
            items,
          },
          ctx.query.get("fields"),
        );
      },
    },
    {
      method: "GET",
      path: "/api/v1/archived-workflows/{uid}",
      access: "read",
      handler: async (ctx) => withArgoLabels(await findArchived(store, ctx)),
    },
    {
      method: "DELETE",
      path: "/api/v1/archived-workflows/{uid}",
      access: "write",
      handler: async (ctx) => {
        const wf = await findArchived(store, ctx);
        if (!store.archiveDelete)
          throw new ApiError(GRPC.Unimplemented, "this store cannot delete single archived workflows");
        await store.archiveDelete(
          wf.metadata.namespace ?? "default",
          wf.metadata.name ?? "",
          wf.metadata.uid,
        );
        return {};
      },
    },
  ];
}
