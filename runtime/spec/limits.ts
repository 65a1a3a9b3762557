import type { CST } from "yaml";

/**
 * Bounds on what one file may hold, so bad or hostile input gets a coded error instead of exhausting the
 * stack or the heap. Each is far above what a real Argo manifest needs; none is configurable.
 */
export const SPEC_LIMITS = {
  /**
   * Bytes in one file. Kubernetes refuses a request body over 3 MiB and etcd an object over 1.5 MiB, so no
   * manifest Argo can store comes near it.
   */
  maxFileBytes: 4 * 1024 * 1024,
  /** YAML nodes (scalars, mappings and lists) in one file. */
  maxNodes: 200_000,
  /** Mappings and lists nested inside each other. Argo manifests nest about 15 deep. */
  maxNestingDepth: 100,
  /**
   * Templates calling templates, as Argo's controller allows (`maxAllowedStackDepth`: deeper fails with
   * "Maximum recursion depth exceeded").
   */
  maxTemplateDepth: 100,
  /**
   * Items one `withSequence` may expand to: wide enough for the 100,000-node workflows Skiff is built to run,
   * small enough that a typo (`count: "100000000"`) is refused before it fills memory.
   */
  maxLoopWidth: 100_000,
} as const;

/** What `measureTokens` found over the limits, with the offset of the first node past them. */
export interface TokenExcess {
  kind: "depth" | "nodes";
  offset: number;
}

/**
 * Walks the concrete syntax tree of a file without recursion and reports the first node past the nesting or
 * node-count limit. Composing the document (which recurses once per level) and everything after it only runs
 * on trees that pass.
 */
export function measureTokens(tokens: readonly CST.Token[]): TokenExcess | undefined {
  let nodes = 0;
  const stack: { token: CST.Token; depth: number }[] = [];
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i];
    if (token) stack.push({ token, depth: 0 });
  }
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token, depth } = next;
    const children: (CST.Token | null | undefined)[] = [];
    switch (token.type) {
      case "document":
        children.push(token.value);
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection":
        if (depth >= SPEC_LIMITS.maxNestingDepth) return { kind: "depth", offset: token.offset };
        for (const item of token.items) children.push(item.key, item.value);
        break;
      default:
        break;
    }
    if (token.type !== "document" && ++nodes > SPEC_LIMITS.maxNodes)
      return { kind: "nodes", offset: token.offset };
    const childDepth = token.type === "document" ? depth : depth + 1;
    for (let c = children.length - 1; c >= 0; c--) {
      const child = children[c];
      if (child) stack.push({ token: child, depth: childDepth });
    }
  }
  return undefined;
}
