import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import type { SourcePosition } from "../errors/index.js";

/** Finds where a field was written, by its path from the object root. */
export interface PositionIndex {
  get(path: readonly (string | number)[]): SourcePosition | undefined;
}

/** A position index that knows nothing (objects built in code). */
export const NO_POSITIONS: PositionIndex = { get: () => undefined };

/**
 * Positions over one parsed YAML document. Lookups walk the AST on demand: most paths are never asked for,
 * so building a full table up front would cost more than it saves. For a mapping entry the position is that
 * of its key (where the offending field is written); for a list item, the item itself.
 */
export function documentPositions(doc: Document, lineCounter: LineCounter, file: string): PositionIndex {
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  // Each mapping's keys, indexed the first time a path goes through it: a lookup costs one step per path
  // segment, not one per key of every mapping on the way (a check that reports every key of a big mapping
  // would otherwise be quadratic).
  const keysOf = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let keys = keysOf.get(map);
    if (!keys) {
      keys = new Map();
      for (const p of map.items)
        if (isPair(p) && isScalar(p.key) && !keys.has(String(p.key.value))) keys.set(String(p.key.value), p);
      keysOf.set(map, keys);
    }
    return keys.get(key);
  };
  return {
    get(path) {
      let node: unknown = doc.contents;
      let pos: SourcePosition | undefined = isNodeWithRange(node) ? at(node.range[0]) : undefined;
      for (const seg of path) {
        if (isMap(node)) {
          const pair = pairOf(node, String(seg));
          if (!pair) return undefined;
          pos = isNodeWithRange(pair.key) ? at(pair.key.range[0]) : pos;
          node = pair.value;
        } else if (isSeq(node) && typeof seg === "number") {
          const item: unknown = node.items[seg];
          if (!isNodeWithRange(item)) return undefined;
          pos = at(item.range[0]);
          node = item;
        } else {
          return undefined;
        }
      }
      return pos;
    },
  };
}

function isNodeWithRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === "object" && n !== null && Array.isArray((n as { range?: unknown }).range);
}

/** Positions shifted to another root: `get(p)` answers `inner.get([...prefix, ...p])`. */
export function prefixedPositions(inner: PositionIndex, prefix: readonly (string | number)[]): PositionIndex {
  return { get: (path) => inner.get([...prefix, ...path]) };
}

/** Formats a path as `spec.templates[2].dag.tasks[0]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let s = "";
  for (const seg of path) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) s += s === "" ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}
