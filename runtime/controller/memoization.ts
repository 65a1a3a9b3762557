import { substitute } from "../expr/index.js";
import type { MemoCache, MemoEntry } from "../interfaces/memo.js";
import type { ResolvedTemplate, TemplateHolder } from "../spec/compiled.js";
import { parseDuration } from "../spec/index.js";
import type { NodeStatus } from "../spec/types.js";
import {
  holderTemplateName,
  type Invocation,
  iso,
  messageOf,
  nodeTypeOfTemplate,
  type OperatorContext,
  type ProcessedInputs,
} from "./context.js";
import type { LayeredVars } from "./vars.js";

/*
 * Argo's `memoize`: a node whose key has a fresh cache entry is Succeeded with the cached outputs, without
 * running; a Succeeded node saves its outputs under its key. The cache is `options.memoCache`, by default an
 * InMemoryMemoCache per run.
 */

export async function checkMemo(
  op: OperatorContext,
  nodeName: string,
  holder: TemplateHolder,
  rt: ResolvedTemplate,
  inputs: ProcessedInputs,
  vars: LayeredVars,
  inv: Invocation,
): Promise<NodeStatus | undefined> {
  const memoize = rt.template.memoize;
  if (!memoize) return undefined;
  const key = substitute(memoize.key, vars);
  const cacheName = memoize.cache?.configMap.name ?? "";
  if (!/^[a-zA-Z0-9][-a-zA-Z0-9]*$/.test(key)) {
    return op.errorNode(
      nodeName,
      inv,
      `invalid memoization key '${key}'`,
      nodeTypeOfTemplate(rt.template),
      holder,
    );
  }
  const entry = await op.memo.load(cacheName, key);
  let fresh = entry !== undefined;
  if (entry && memoize.maxAge) {
    const age = op.options.clock.now() - Date.parse(entry.creationTimestamp);
    fresh = age < parseDuration(memoize.maxAge);
  }
  inv.memo = { key, cacheName };
  if (!entry || !fresh) return undefined;
  const node = op.createNode({
    name: nodeName,
    type: rt.template.retryStrategy ? "Retry" : nodeTypeOfTemplate(rt.template),
    phase: "Succeeded",
    boundaryID: inv.boundaryID,
    templateName: holderTemplateName(holder),
    templateRef: rt.templateRef,
    scope: inv.scope,
    flag: inv.flag,
    inputs,
  });
  node.outputs = structuredClone(entry.outputs);
  node.memoizationStatus = { hit: true, key, cacheName };
  entry.lastHitTimestamp = iso(op.options.clock.now());
  await op.memo.save(cacheName, key, entry);
  inv.onCreate?.(node);
  op.exportOutputs(node.outputs);
  return node;
}

export async function saveMemo(op: OperatorContext, node: NodeStatus, inv: Invocation): Promise<void> {
  if (!inv.memo) return;
  node.memoizationStatus = { hit: false, key: inv.memo.key, cacheName: inv.memo.cacheName };
  if (node.phase !== "Succeeded") return;
  const now = iso(op.options.clock.now());
  try {
    await op.memo.save(inv.memo.cacheName, inv.memo.key, {
      nodeID: node.id,
      outputs: structuredClone(node.outputs ?? {}),
      creationTimestamp: now,
      lastHitTimestamp: now,
    });
  } catch (e) {
    op.markPhase(node, "Error", messageOf(e));
  }
}

/** The default memoization cache: entries live as long as the process. */
export class InMemoryMemoCache implements MemoCache {
  private readonly entries = new Map<string, MemoEntry>();

  load(cacheName: string, key: string): Promise<MemoEntry | undefined> {
    const e = this.entries.get(cacheName + "\u0000" + key);
    return Promise.resolve(e ? structuredClone(e) : undefined);
  }

  save(cacheName: string, key: string, entry: MemoEntry): Promise<void> {
    this.entries.set(cacheName + "\u0000" + key, structuredClone(entry));
    return Promise.resolve();
  }
}
