import { SkiffError } from "../errors/index.js";
import { EXPR_CODES } from "./codes.js";
import { expandVars } from "./expand.js";
import { hasBuiltin, toFloat64, toInt } from "./exprlang/builtins.js";
import { evaluate } from "./exprlang/interpreter.js";
import type { EvalOptions } from "./exprlang/interpreter.js";
import { parse, predicateBuiltins } from "./exprlang/parser.js";
import type { Node } from "./exprlang/parser.js";
import { EvalError, GoDuration, formatGoValue, formatRFC3339Nano, marshalGoJson } from "./exprlang/values.js";
import { jsonPath } from "./jsonpath.js";
import { createSprig } from "./sprig.js";
import type { Vars } from "./types.js";

/** Options of {@link evaluateExpression}. */
export interface ExpressionOptions {
  /** The clock behind `now()` and sprig's date functions. */
  now?: () => Date;
}

const parseCache = new Map<string, Node>();

/** Parses an expr-lang expression (cached); throws SkiffError SKF-EXPR-008 with the column of the problem. */
export function parseExpression(expression: string): Node {
  let node = parseCache.get(expression);
  if (node) return node;
  try {
    node = parse(expression);
  } catch (e) {
    throw toExprError(e, expression, EXPR_CODES["SKF-EXPR-008"]);
  }
  if (parseCache.size > 2000) parseCache.clear();
  parseCache.set(expression, node);
  return node;
}

/** Converts an EvalError into a coded SkiffError with a 1-based column inside the expression. */
export function toExprError(e: unknown, expression: string, code: string): SkiffError {
  if (e instanceof SkiffError) return e;
  if (e instanceof EvalError) {
    const column = (e.offset ?? 0) + 1;
    return new SkiffError(code, `${e.message} (1:${column}) in expression '${expression}'`, {
      position: { column },
      cause: e,
    });
  }
  return new SkiffError(code, `${e instanceof Error ? e.message : String(e)} in expression '${expression}'`, {
    cause: e,
  });
}

/** Names Argo adds to the environment next to the variables (`util/expr/env/env.go`). */
export const argoFunctionNames = new Set(["asInt", "asFloat", "jsonpath", "toJson", "sprig"]);

/** Argo keeps one sprig map for all evaluations; so does Skiff (frozen, as nothing may change it). */
let defaultSprig: Record<string, unknown> | undefined;

/** Argo's expression environment: expanded variables plus `asInt`, `asFloat`, `jsonpath`, `toJson`, `sprig`. */
export function buildExpressionEnv(
  vars: Vars | Readonly<Record<string, unknown>>,
  options: ExpressionOptions = {},
  roots?: readonly string[],
): Record<string, unknown> {
  const env = expandVars(roots ? restrictToRoots(vars, roots) : vars);
  env.asInt = (v: unknown) => toInt(v);
  env.asFloat = (v: unknown) => toFloat64(v);
  env.jsonpath = jsonPath;
  env.toJson = (v: unknown) => marshalGoJson(v);
  env.sprig = options.now
    ? createSprig(options.now)
    : (defaultSprig ??= Object.freeze(createSprig(() => new Date())));
  return env;
}

/** The variables under the given roots only: an expression can reach no others, and expanding all is costly. */
function restrictToRoots(
  vars: Vars | Readonly<Record<string, unknown>>,
  roots: readonly string[],
): [string, unknown][] {
  const out: [string, unknown][] = [];
  const matches = (k: string): boolean =>
    roots.some((r) => k.startsWith(r) && (k.length === r.length || k[r.length] === "."));
  if (vars instanceof Map) {
    for (const [k, v] of vars as ReadonlyMap<string, unknown>) if (matches(k)) out.push([k, v]);
  } else {
    for (const k in vars)
      if (Object.hasOwn(vars, k) && matches(k)) out.push([k, (vars as Record<string, unknown>)[k]]);
  }
  return out;
}

/** Every identifier an expression names (roots of variable paths, locals and function names alike). */
export function identifierRoots(node: Node): string[] {
  const names = new Set<string>();
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      n.forEach(visit);
      return;
    }
    if (!n || typeof n !== "object") return;
    const rec = n as Record<string, unknown>;
    if (rec.k === "ident") names.add(rec.name as string);
    for (const value of Object.values(rec)) if (typeof value === "object") visit(value);
  };
  visit(node);
  return [...names].sort();
}

/**
 * Evaluates an expr-lang expression with Argo's environment. Flat variables are expanded into nested maps;
 * plain JS values are used as they are (JS numbers are float64, bigints are ints).
 * Throws SkiffError SKF-EXPR-008 (syntax) or SKF-EXPR-009 (evaluation) with the column.
 */
export function evaluateExpression(
  expression: string,
  vars: Vars | Record<string, unknown>,
  options: ExpressionOptions = {},
): unknown {
  const node = parseExpression(expression);
  return evaluateParsed(node, expression, buildExpressionEnv(vars, options, identifierRoots(node)), options);
}

export function evaluateParsed(
  node: Node,
  expression: string,
  env: Record<string, unknown>,
  options: EvalOptions = {},
): unknown {
  try {
    return evaluate(node, env, options);
  } catch (e) {
    const code =
      e instanceof EvalError && /^unknown name /.test(e.message)
        ? EXPR_CODES["SKF-EXPR-012"]
        : EXPR_CODES["SKF-EXPR-009"];
    throw toExprError(e, expression, code);
  }
}

/**
 * Evaluates an expression that must yield a boolean (retry `expression`, hook `expression`, `successCondition`),
 * with Argo's message when it does not: `unable to cast expression result '…' to bool`.
 */
export function evaluateCondition(
  expression: string,
  vars: Vars | Record<string, unknown>,
  options: ExpressionOptions = {},
): boolean {
  const result = evaluateExpression(expression, vars, options);
  if (typeof result !== "boolean") {
    throw new SkiffError(
      EXPR_CODES["SKF-EXPR-009"],
      `unable to cast expression result '${formatGoValue(result)}' to bool`,
      {
        hint: "The expression must evaluate to true or false.",
      },
    );
  }
  return result;
}

/**
 * Argo's formatting of an expression result inside a tag: strings as they are, everything else as (Go) JSON,
 * e.g. `3`, `true`, `[1,2]`, `{"a":1}`.
 */
export function formatExpressionResult(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return marshalGoJson(value);
  } catch (e) {
    if (e instanceof EvalError) return formatGoValue(value);
    throw e;
  }
}

/**
 * An expression result as plain JSON-able JS: ints (bigint) become numbers, times RFC 3339 strings, durations
 * nanoseconds, the way Go's JSON encoding would show them. For callers that store or serialize results.
 */
export function toPlainValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return formatRFC3339Nano(value);
  if (value instanceof GoDuration) return value.nanoseconds;
  if (Array.isArray(value)) return value.map(toPlainValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlainValue(v);
    return out;
  }
  return value;
}

/** A static variable path an expression reads, e.g. `["steps", "a", "outputs", "result"]`. */
export interface VariableReference {
  path: string[];
  /** 0-based offset of the reference in the expression. */
  pos: number;
}

/**
 * The variable paths an expression reads: identifier roots followed by `.name` or `['literal']` members.
 * Locals (`let`), pointers (`#`), Argo's function names and builtin calls are not variables.
 */
export function collectReferences(node: Node): VariableReference[] {
  const out: VariableReference[] = [];
  const visit = (n: Node, locals: ReadonlySet<string>): void => {
    const chain = staticChain(n);
    if (chain) {
      const root = chain.path[0] ?? "";
      if (!locals.has(root) && !argoFunctionNames.has(root)) out.push(chain);
      for (const dyn of chain.dynamic) visit(dyn, locals);
      return;
    }
    switch (n.k) {
      case "unary":
        visit(n.node, locals);
        return;
      case "binary":
        visit(n.left, locals);
        visit(n.right, locals);
        return;
      case "cond":
        visit(n.cond, locals);
        visit(n.a, locals);
        visit(n.b, locals);
        return;
      case "array":
        n.items.forEach((x) => visit(x, locals));
        return;
      case "map":
        n.pairs.forEach((p) => {
          visit(p.key, locals);
          visit(p.value, locals);
        });
        return;
      case "let": {
        visit(n.value, locals);
        visit(n.body, new Set([...locals, n.name]));
        return;
      }
      case "chain":
        visit(n.node, locals);
        return;
      case "member":
        visit(n.node, locals);
        visit(n.prop, locals);
        return;
      case "slice":
        visit(n.node, locals);
        if (n.from) visit(n.from, locals);
        if (n.to) visit(n.to, locals);
        return;
      case "method":
        visit(n.node, locals);
        n.args.forEach((a) => visit(a, locals));
        return;
      case "call":
        n.args.forEach((a) => visit(a, locals));
        return;
      case "closure":
        visit(n.node, locals);
        return;
      default:
        return;
    }
  };
  visit(node, new Set());
  return out;
}

/** Names called as plain functions (`foo(...)`), builtins and predicates included. */
export function calledFunctions(node: Node): string[] {
  const out: string[] = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      n.forEach(visit);
      return;
    }
    if (!n || typeof n !== "object") return;
    const rec = n as Record<string, unknown>;
    if (rec.k === "call" && (rec.callee as Node).k === "ident")
      out.push((rec.callee as { name: string }).name);
    for (const [key, value] of Object.entries(rec))
      if (key !== "callee" && typeof value === "object") visit(value);
  };
  visit(node);
  return out;
}

/** expr-lang builtins (functions and predicates) that need nothing from the environment. */
export function isBuiltinFunction(name: string): boolean {
  return hasBuiltin(name) || predicateBuiltins.has(name);
}

function staticChain(n: Node): (VariableReference & { dynamic: Node[] }) | undefined {
  const props: string[] = [];
  const dynamic: Node[] = [];
  let cur = n;
  for (;;) {
    if (cur.k === "chain") {
      cur = cur.node;
      continue;
    }
    if (cur.k === "member") {
      if (cur.prop.k === "str") props.unshift(cur.prop.v);
      else {
        // A computed index ends the static part: what is before it is the reference.
        props.length = 0;
        dynamic.push(cur.prop);
      }
      cur = cur.node;
      continue;
    }
    if (cur.k === "slice") {
      props.length = 0;
      if (cur.from) dynamic.push(cur.from);
      if (cur.to) dynamic.push(cur.to);
      cur = cur.node;
      continue;
    }
    break;
  }
  if (cur.k !== "ident") return undefined;
  return { path: [cur.name, ...props], pos: cur.pos, dynamic };
}

export { predicateBuiltins };
