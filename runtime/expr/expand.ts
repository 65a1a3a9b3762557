import type { Vars } from "./types.js";

/** Iterates the entries of flat variables given as a Map or a record. */
export function varEntries(
  vars: Vars | Readonly<Record<string, unknown>> | [string, unknown][],
): [string, unknown][] {
  if (Array.isArray(vars)) return vars;
  return vars instanceof Map ? [...(vars as ReadonlyMap<string, unknown>).entries()] : Object.entries(vars);
}

/**
 * Argo's util/expand: turns flat `a.b.c` keys into nested maps. A key that is a prefix of the next key in sorted
 * order (`a` before `a.b`) is dropped first, so the more specific keys win; remaining clashes (a non-adjacent
 * prefix such as `a`, `a-x`, `a.b`) keep the map, where Go's result would depend on map iteration order.
 */
export function expandVars(
  vars: Vars | Readonly<Record<string, unknown>> | [string, unknown][],
): Record<string, unknown> {
  const entries = varEntries(vars);
  const keys = entries.map(([k]) => k).sort();
  const dropped = new Set<string>();
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i] ?? "";
    if ((keys[i + 1] ?? "").startsWith(`${k}.`)) dropped.add(k);
  }
  const root: Record<string, unknown> = {};
  const created = new Set<unknown>([root]);
  for (const [key, value] of entries) {
    if (dropped.has(key)) continue;
    const parts = key.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      let next = node[p];
      if (!created.has(next)) {
        next = {};
        created.add(next);
        node[p] = next;
      }
      node = next as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1] ?? "";
    if (created.has(node[leaf])) continue;
    node[leaf] = value === undefined ? null : value;
  }
  return root;
}
