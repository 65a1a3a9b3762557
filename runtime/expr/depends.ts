import { SkiffError } from "../errors/index.js";
import type { ContinueOn, NodePhase } from "../spec/types.js";
import { EXPR_CODES } from "./codes.js";

/** What `depends` knows about one dependency task. */
export interface DependencyResult {
  /** Phase of the dependency's node; undefined = not created yet. */
  phase?: NodePhase;
  daemoned?: boolean;
  /** TaskGroup / expanded dependency (withItems, withParam, withSequence). */
  isLoop?: boolean;
  /** A loop: any child Succeeded. */
  anySucceeded?: boolean;
  /** A loop: all children Failed (false when there are no children). */
  allFailed?: boolean;
  /** `continueOn` of the dependency task (adds `|| A.Failed` / `|| A.Errored` to a bare name). */
  continueOn?: ContinueOn;
}

/** The result names `depends` accepts after a task name. */
export const dependsResults = [
  "Succeeded",
  "Failed",
  "Errored",
  "Skipped",
  "Omitted",
  "Daemoned",
  "AnySucceeded",
  "AllFailed",
] as const;
export type DependsResultName = (typeof dependsResults)[number];

type DNode =
  | { k: "task"; name: string; result?: DependsResultName; pos: number }
  | { k: "not"; node: DNode; pos: number }
  | { k: "and" | "or"; left: DNode; right: DNode; pos: number };

interface DToken {
  kind: "name" | "op" | "(" | ")" | "eof";
  value: string;
  pos: number;
}

function dependsError(depends: string, message: string, pos: number): SkiffError {
  const column = pos + 1;
  return new SkiffError(
    EXPR_CODES["SKF-EXPR-011"],
    `invalid depends '${depends}': ${message} (column ${column})`,
    {
      position: { column },
      cause: new Error(message),
    },
  );
}

function tokenize(depends: string): DToken[] {
  const tokens: DToken[] = [];
  let i = 0;
  while (i < depends.length) {
    const c = depends[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ kind: c, value: c, pos: i });
      i++;
      continue;
    }
    const two = depends.slice(i, i + 2);
    if (two === "&&" || two === "||") {
      tokens.push({ kind: "op", value: two, pos: i });
      i += 2;
      continue;
    }
    if (c === "!") {
      tokens.push({ kind: "op", value: "!", pos: i });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_][A-Za-z0-9_\-.]*/.exec(depends.slice(i));
    if (!m) throw dependsError(depends, `unexpected character '${c}'`, i);
    const word = m[0];
    if (word === "and" || word === "or" || word === "not") {
      tokens.push({ kind: "op", value: word === "and" ? "&&" : word === "or" ? "||" : "!", pos: i });
    } else {
      tokens.push({ kind: "name", value: word, pos: i });
    }
    i += word.length;
  }
  tokens.push({ kind: "eof", value: "", pos: depends.length });
  return tokens;
}

const parseCache = new Map<string, DNode | null>();

/** Parses a `depends` expression; throws SkiffError SKF-EXPR-011 with the column of the problem. */
function parseDepends(depends: string): DNode | null {
  const cached = parseCache.get(depends);
  if (cached !== undefined) return cached;
  const tokens = tokenize(depends);
  let i = 0;
  const peek = (): DToken => tokens[i] ?? { kind: "eof", value: "", pos: depends.length };
  const describe = (t: DToken): string => (t.kind === "eof" ? "end of expression" : `'${t.value}'`);
  const parseOr = (): DNode => {
    let left = parseAnd();
    while (peek().kind === "op" && peek().value === "||") {
      const pos = peek().pos;
      i++;
      left = { k: "or", left, right: parseAnd(), pos };
    }
    return left;
  };
  const parseAnd = (): DNode => {
    let left = parseUnary();
    while (peek().kind === "op" && peek().value === "&&") {
      const pos = peek().pos;
      i++;
      left = { k: "and", left, right: parseUnary(), pos };
    }
    return left;
  };
  const parseUnary = (): DNode => {
    const t = peek();
    if (t.kind === "op" && t.value === "!") {
      i++;
      return { k: "not", node: parseUnary(), pos: t.pos };
    }
    if (t.kind === "(") {
      i++;
      const inner = parseOr();
      if (peek().kind !== ")")
        throw dependsError(depends, `expected ')' but found ${describe(peek())}`, peek().pos);
      i++;
      return inner;
    }
    if (t.kind === "name") {
      i++;
      const dot = t.value.lastIndexOf(".");
      if (dot < 0) return { k: "task", name: t.value, pos: t.pos };
      const name = t.value.slice(0, dot);
      const result = t.value.slice(dot + 1);
      if (!(dependsResults as readonly string[]).includes(result)) {
        throw dependsError(
          depends,
          `unknown result '${result}' for task '${name}' (expected one of ${dependsResults.join(", ")})`,
          t.pos + dot + 1,
        );
      }
      if (name === "" || name.includes("."))
        throw dependsError(depends, `invalid task name '${name}'`, t.pos);
      return { k: "task", name, result: result as DependsResultName, pos: t.pos };
    }
    throw dependsError(depends, `unexpected ${describe(t)}`, t.pos);
  };
  let node: DNode | null = null;
  if (peek().kind !== "eof") {
    node = parseOr();
    if (peek().kind !== "eof") throw dependsError(depends, `unexpected ${describe(peek())}`, peek().pos);
  }
  if (parseCache.size > 2000) parseCache.clear();
  parseCache.set(depends, node);
  return node;
}

function resultValue(r: DependencyResult | undefined, result: DependsResultName): boolean {
  const phase = r?.phase;
  switch (result) {
    case "Succeeded":
      return phase === "Succeeded";
    case "Failed":
      return phase === "Failed";
    case "Errored":
      return phase === "Error";
    case "Skipped":
      return phase === "Skipped";
    case "Omitted":
      return phase === "Omitted";
    case "Daemoned":
      return r?.daemoned === true && phase !== undefined && phase !== "Pending";
    case "AnySucceeded":
      return r?.isLoop !== false && r?.anySucceeded === true;
    case "AllFailed":
      return r?.isLoop !== false && r?.allFailed === true;
  }
}

function evaluateNode(node: DNode, results: Readonly<Record<string, DependencyResult>>): boolean {
  switch (node.k) {
    case "and":
      return evaluateNode(node.left, results) && evaluateNode(node.right, results);
    case "or":
      return evaluateNode(node.left, results) || evaluateNode(node.right, results);
    case "not":
      return !evaluateNode(node.node, results);
    case "task": {
      const r = Object.hasOwn(results, node.name) ? results[node.name] : undefined;
      if (node.result) return resultValue(r, node.result);
      return (
        resultValue(r, "Succeeded") ||
        resultValue(r, "Skipped") ||
        resultValue(r, "Daemoned") ||
        (r?.continueOn?.failed === true && resultValue(r, "Failed")) ||
        (r?.continueOn?.error === true && resultValue(r, "Errored"))
      );
    }
  }
}

/**
 * Evaluates a `depends` expression (§3.3). A bare `A` means `(A.Succeeded || A.Skipped || A.Daemoned)` plus
 * `|| A.Failed` / `|| A.Errored` when A's continueOn allows it. An empty expression is true.
 * Throws SkiffError SKF-EXPR-011 on syntax errors and unknown results.
 */
export function evaluateDepends(
  depends: string,
  results: Readonly<Record<string, DependencyResult>>,
): boolean {
  const node = parseDepends(depends);
  return node === null ? true : evaluateNode(node, results);
}

/** `dependencies: [A, B]` as the equivalent depends text (`A && B`). */
export function dependenciesToDepends(dependencies: readonly string[]): string {
  return dependencies.join(" && ");
}

/** Task names a depends expression mentions, in order of first mention; throws SkiffError on syntax errors. */
export function dependsTaskNames(depends: string): string[] {
  const node = parseDepends(depends);
  const names: string[] = [];
  const visit = (n: DNode): void => {
    if (n.k === "task") {
      if (!names.includes(n.name)) names.push(n.name);
    } else if (n.k === "not") visit(n.node);
    else {
      visit(n.left);
      visit(n.right);
    }
  };
  if (node) visit(node);
  return names;
}

/** Each mention of a task in a depends expression with the result it asks for (undefined = bare name). */
export function dependsReferences(
  depends: string,
): { task: string; result?: DependsResultName; column: number }[] {
  const node = parseDepends(depends);
  const out: { task: string; result?: DependsResultName; column: number }[] = [];
  const visit = (n: DNode): void => {
    if (n.k === "task")
      out.push({ task: n.name, ...(n.result ? { result: n.result } : {}), column: n.pos + 1 });
    else if (n.k === "not") visit(n.node);
    else {
      visit(n.left);
      visit(n.right);
    }
  };
  if (node) visit(node);
  return out;
}

/** Syntax problems of a depends expression; empty when valid. */
export function checkDependsSyntax(depends: string): { message: string; column: number }[] {
  try {
    parseDepends(depends);
    return [];
  } catch (e) {
    if (e instanceof SkiffError) {
      const reason = e.cause instanceof Error ? e.cause.message : e.message;
      return [{ message: reason, column: e.position?.column ?? 1 }];
    }
    throw e;
  }
}
