import { callBuiltin, hasBuiltin } from "./builtins.js";
import { compare } from "./compare.js";
import type { Node } from "./parser.js";
import { compileRegex } from "./regex.js";
import {
  EvalError,
  GoDuration,
  formatGoTime,
  goTypeName,
  int64,
  isDict,
  isNil,
  isNumber,
  toFloat,
  valuesEqual,
} from "./values.js";

/** Options of one evaluation. */
export interface EvalOptions {
  /** The clock behind `now()`; tests inject a fixed time. */
  now?: () => Date;
}

interface Frame {
  value: unknown;
  index: number;
  acc?: unknown;
}

interface Scope {
  env: Record<string, unknown>;
  frames: Frame[];
  lets: Map<string, unknown>;
  options: EvalOptions;
}

class ChainNil {}
const chainNil = new ChainNil();

/** Evaluates a parsed expression against an environment of nested values. */
export function evaluate(node: Node, env: Record<string, unknown>, options: EvalOptions = {}): unknown {
  return run(node, { env, frames: [], lets: new Map(), options });
}

function fail(message: string, node: Node): never {
  throw new EvalError(message, node.pos);
}

function asBool(v: unknown, node: Node): boolean {
  if (typeof v !== "boolean") fail(`interface conversion: interface {} is ${goTypeName(v)}, not bool`, node);
  return v;
}

function run(node: Node, s: Scope): unknown {
  switch (node.k) {
    case "nil":
      return null;
    case "bool":
    case "int":
    case "float":
    case "str":
      return node.v;
    case "ident": {
      if (s.lets.has(node.name)) return s.lets.get(node.name);
      if (Object.hasOwn(s.env, node.name)) return s.env[node.name];
      if (hasBuiltin(node.name)) fail(`builtin ${node.name} is not a value`, node);
      return fail(`unknown name ${node.name}`, node);
    }
    case "pointer": {
      const frame = s.frames[s.frames.length - 1];
      if (!frame) return fail("cannot use pointer accessor outside predicate", node);
      if (node.name === "") return frame.value;
      if (node.name === "index") return BigInt(frame.index);
      if (node.name === "acc") return frame.acc;
      return fail(`unknown pointer #${node.name}`, node);
    }
    case "unary":
      return unary(node.op, run(node.node, s), node);
    case "binary":
      return binary(node, s);
    case "cond":
      return asCondition(run(node.cond, s), node) ? run(node.a, s) : run(node.b, s);
    case "array":
      return node.items.map((n) => run(n, s));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const { key, value } of node.pairs) {
        const k = run(key, s);
        out[typeof k === "string" ? k : String(k)] = run(value, s);
      }
      return out;
    }
    case "let": {
      const lets = new Map(s.lets);
      lets.set(node.name, run(node.value, s));
      return run(node.body, { ...s, lets });
    }
    case "chain":
      try {
        return run(node.node, s);
      } catch (e) {
        if (e === chainNil) return null;
        throw e;
      }
    case "member": {
      const obj = run(node.node, s);
      if (isNil(obj) && node.optional) throw chainNil;
      return fetch(obj, run(node.prop, s), node);
    }
    case "slice":
      return slice(
        run(node.node, s),
        node.from ? run(node.from, s) : undefined,
        node.to ? run(node.to, s) : undefined,
        node,
      );
    case "method": {
      const obj = run(node.node, s);
      const args = node.args.map((a) => run(a, s));
      return callMethod(obj, node.name, args, node);
    }
    case "call":
      return call(node, s);
    case "closure":
      return fail("closure used outside of a builtin", node);
  }
}

function asCondition(v: unknown, node: Node): boolean {
  if (typeof v !== "boolean") fail(`non-bool expression (type ${goTypeName(v)}) used as condition`, node);
  return v;
}

function unary(op: string, v: unknown, node: Node): unknown {
  switch (op) {
    case "not":
    case "!":
      return !asBool(v, node);
    case "-":
      if (typeof v === "bigint") return int64(-v);
      if (typeof v === "number") return -v;
      if (v instanceof GoDuration) return new GoDuration(-v.nanoseconds);
      return fail(`invalid operation: - (mismatched type ${goTypeName(v)})`, node);
    case "+":
      if (isNumber(v)) return v;
      return fail(`invalid operation: + (mismatched type ${goTypeName(v)})`, node);
  }
  return fail(`unknown operator ${op}`, node);
}

function mismatch(op: string, a: unknown, b: unknown, node: Node): never {
  return fail(`invalid operation: ${goTypeName(a)} ${op} ${goTypeName(b)}`, node);
}

function binary(node: Extract<Node, { k: "binary" }>, s: Scope): unknown {
  const op = node.op;
  if (op === "&&" || op === "and") {
    if (!asBool(run(node.left, s), node.left)) return false;
    return asBool(run(node.right, s), node.right);
  }
  if (op === "||" || op === "or") {
    if (asBool(run(node.left, s), node.left)) return true;
    return asBool(run(node.right, s), node.right);
  }
  if (op === "??") {
    let left: unknown;
    try {
      left = run(node.left, s);
    } catch (e) {
      if (e === chainNil) left = null;
      else throw e;
    }
    return isNil(left) ? run(node.right, s) : left;
  }
  const a = run(node.left, s);
  const b = run(node.right, s);
  return applyBinary(op, a, b, node);
}

/** A binary operator on two evaluated operands, with expr-lang's typing rules. */
export function applyBinary(op: string, a: unknown, b: unknown, node: Node): unknown {
  switch (op) {
    case "==":
      return valuesEqual(a, b);
    case "!=":
      return !valuesEqual(a, b);
    case "<":
    case ">":
    case "<=":
    case ">=": {
      const c = compare(a, b);
      if (c === undefined) return mismatch(op, a, b, node);
      return op === "<" ? c < 0 : op === ">" ? c > 0 : op === "<=" ? c <= 0 : c >= 0;
    }
    case "+":
      if (typeof a === "bigint" && typeof b === "bigint") return int64(a + b);
      if (isNumber(a) && isNumber(b)) return toFloat(a) + toFloat(b);
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (a instanceof Date && b instanceof GoDuration) return new Date(a.getTime() + b.nanoseconds / 1e6);
      if (a instanceof GoDuration && b instanceof Date) return new Date(b.getTime() + a.nanoseconds / 1e6);
      if (a instanceof GoDuration && b instanceof GoDuration)
        return new GoDuration(a.nanoseconds + b.nanoseconds);
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      return mismatch(op, a, b, node);
    case "-":
      if (typeof a === "bigint" && typeof b === "bigint") return int64(a - b);
      if (isNumber(a) && isNumber(b)) return toFloat(a) - toFloat(b);
      if (a instanceof Date && b instanceof Date) return new GoDuration((a.getTime() - b.getTime()) * 1e6);
      if (a instanceof Date && b instanceof GoDuration) return new Date(a.getTime() - b.nanoseconds / 1e6);
      if (a instanceof GoDuration && b instanceof GoDuration)
        return new GoDuration(a.nanoseconds - b.nanoseconds);
      return mismatch(op, a, b, node);
    case "*":
      if (typeof a === "bigint" && typeof b === "bigint") return int64(a * b);
      if (isNumber(a) && isNumber(b)) return toFloat(a) * toFloat(b);
      if (a instanceof GoDuration && isNumber(b)) return new GoDuration(a.nanoseconds * toFloat(b));
      if (isNumber(a) && b instanceof GoDuration) return new GoDuration(b.nanoseconds * toFloat(a));
      return mismatch(op, a, b, node);
    case "/":
      if (isNumber(a) && isNumber(b)) return toFloat(a) / toFloat(b);
      return mismatch(op, a, b, node);
    case "%":
      if (typeof a === "bigint" && typeof b === "bigint") {
        if (b === 0n) fail("integer divide by zero", node);
        return a % b;
      }
      return mismatch(op, a, b, node);
    case "**":
    case "^":
      if (isNumber(a) && isNumber(b)) return Math.pow(toFloat(a), toFloat(b));
      return mismatch(op, a, b, node);
    case "..": {
      if (typeof a !== "bigint" || typeof b !== "bigint") return mismatch(op, a, b, node);
      const out: bigint[] = [];
      for (let i = a; i <= b; i++) out.push(i);
      return out;
    }
    case "in":
      if (Array.isArray(b)) return b.some((x) => valuesEqual(x, a));
      if (isDict(b)) return typeof a === "string" && Object.hasOwn(b, a);
      if (isNil(b)) return false;
      return fail(`operator in not defined on ${goTypeName(b)}`, node);
    case "matches":
      if (typeof a !== "string" || typeof b !== "string") return mismatch(op, a, b, node);
      try {
        return compileRegex(b).matcher(a).find();
      } catch (e) {
        if (e instanceof EvalError) fail(e.message, node);
        throw e;
      }
    case "contains":
      if (typeof a !== "string" || typeof b !== "string") return mismatch(op, a, b, node);
      return a.includes(b);
    case "startsWith":
      if (typeof a !== "string" || typeof b !== "string") return mismatch(op, a, b, node);
      return a.startsWith(b);
    case "endsWith":
      if (typeof a !== "string" || typeof b !== "string") return mismatch(op, a, b, node);
      return a.endsWith(b);
  }
  return fail(`unknown operator ${op}`, node);
}

function toIndex(v: unknown, node: Node): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && Number.isInteger(v)) return v;
  return fail(`cannot use ${goTypeName(v)} as index`, node);
}

/** Member/index access (`a.b`, `a['b']`, `a[0]`, `a[-1]`). */
export function fetch(obj: unknown, prop: unknown, node: Node): unknown {
  if (isNil(obj)) return fail(`cannot fetch ${String(prop)} from <nil>`, node);
  if (Array.isArray(obj)) {
    let i = toIndex(prop, node);
    if (i < 0) i += obj.length;
    if (i < 0 || i >= obj.length)
      fail(`index out of range: ${toIndex(prop, node)} (array length is ${obj.length})`, node);
    return obj[i];
  }
  if (typeof obj === "string") {
    const chars = [...obj];
    let i = toIndex(prop, node);
    if (i < 0) i += chars.length;
    if (i < 0 || i >= chars.length)
      fail(`index out of range: ${toIndex(prop, node)} (array length is ${chars.length})`, node);
    return chars[i];
  }
  if (isDict(obj)) {
    const key = typeof prop === "string" ? prop : String(prop);
    return Object.hasOwn(obj, key) ? obj[key] : null;
  }
  return fail(`cannot fetch ${String(prop)} from ${goTypeName(obj)}`, node);
}

function slice(obj: unknown, from: unknown, to: unknown, node: Node): unknown {
  const items: unknown[] | string[] =
    typeof obj === "string"
      ? [...obj]
      : Array.isArray(obj)
        ? obj
        : fail(`cannot slice ${goTypeName(obj)}`, node);
  const len = items.length;
  let a = from === undefined ? 0 : toIndex(from, node);
  let b = to === undefined ? len : toIndex(to, node);
  if (a < 0) a += len;
  if (b < 0) b += len;
  a = Math.min(Math.max(a, 0), len);
  b = Math.min(Math.max(b, 0), len);
  if (b < a) b = a;
  const out = items.slice(a, b);
  return typeof obj === "string" ? out.join("") : out;
}

function call(node: Extract<Node, { k: "call" }>, s: Scope): unknown {
  const name = node.callee.k === "ident" ? node.callee.name : "";
  if (node.args.some((a) => a.k === "closure")) return predicate(name, node, s);
  const fnFromScope = s.lets.get(name) ?? (Object.hasOwn(s.env, name) ? s.env[name] : undefined);
  const args = node.args.map((a) => run(a, s));
  if (typeof fnFromScope === "function")
    return invoke(fnFromScope as (...a: unknown[]) => unknown, args, node);
  if (name === "now" && args.length === 0) return s.options.now ? s.options.now() : new Date();
  if (hasBuiltin(name)) {
    try {
      return callBuiltin(name, args);
    } catch (e) {
      if (e instanceof EvalError && e.offset === undefined) fail(e.message, node);
      throw e;
    }
  }
  if (fnFromScope !== undefined) return fail(`${name} is not callable (${goTypeName(fnFromScope)})`, node);
  return fail(`unknown func ${name}`, node);
}

/** Calls a Go-like function value; panics inside it become evaluation errors at the call. */
export function invoke(fn: (...a: unknown[]) => unknown, args: unknown[], node: Node): unknown {
  try {
    return fn(...args);
  } catch (e) {
    if (e instanceof EvalError) throw new EvalError(e.message, e.offset ?? node.pos);
    throw new EvalError(e instanceof Error ? e.message : String(e), node.pos);
  }
}

function iterable(v: unknown, name: string, node: Node): unknown[] {
  if (Array.isArray(v)) return v;
  if (isNil(v)) return [];
  if (isDict(v))
    return Object.keys(v)
      .sort()
      .map((k) => v[k]);
  return fail(`builtin ${name} takes only array (got ${goTypeName(v)})`, node);
}

function predicate(name: string, node: Extract<Node, { k: "call" }>, s: Scope): unknown {
  const [listNode, closure, extra] = node.args;
  if (!listNode || !closure || closure.k !== "closure")
    return fail(`invalid number of arguments for ${name}`, node);
  const items = iterable(run(listNode, s), name, node);
  const body = closure.node;
  const apply = (value: unknown, index: number, acc?: unknown): unknown => {
    s.frames.push({ value, index, acc });
    try {
      return run(body, s);
    } finally {
      s.frames.pop();
    }
  };
  const test = (value: unknown, index: number): boolean => asBool(apply(value, index), body);
  switch (name) {
    case "all":
      return items.every(test);
    case "any":
      return items.some(test);
    case "none":
      return !items.some(test);
    case "one":
      return items.filter(test).length === 1;
    case "filter":
      return items.filter(test);
    case "map":
      return items.map((v, i) => apply(v, i));
    case "count":
      return BigInt(items.filter(test).length);
    case "find":
      return items.find(test) ?? null;
    case "findIndex":
      return BigInt(items.findIndex(test));
    case "findLast":
      return items.findLast(test) ?? null;
    case "findLastIndex":
      return BigInt(items.findLastIndex(test));
    case "sum": {
      const values = items.map((v, i) => apply(v, i));
      return callBuiltin("sum", [values]);
    }
    case "groupBy": {
      const out: Record<string, unknown[]> = {};
      items.forEach((v, i) => {
        const key = apply(v, i);
        const k = typeof key === "string" ? key : String(key);
        (out[k] ??= []).push(v);
      });
      return out;
    }
    case "sortBy": {
      const order = extra ? run(extra, s) : "asc";
      const keyed = items.map((v, i) => ({ v, key: apply(v, i) }));
      keyed.sort((x, y) => {
        const c = compare(x.key, y.key);
        if (c === undefined) fail(`cannot compare ${goTypeName(x.key)} and ${goTypeName(y.key)}`, node);
        return order === "desc" ? -c : c;
      });
      return keyed.map((x) => x.v);
    }
    case "reduce": {
      let acc: unknown;
      let start = 0;
      if (extra) acc = run(extra, s);
      else {
        if (items.length === 0) fail("reduce of empty array with no initial value", node);
        acc = items[0];
        start = 1;
      }
      for (let i = start; i < items.length; i++) acc = apply(items[i], i, acc);
      return acc;
    }
  }
  return fail(`unknown func ${name}`, node);
}

function callMethod(obj: unknown, name: string, args: unknown[], node: Node): unknown {
  if (isDict(obj)) {
    const fn = obj[name];
    if (typeof fn === "function") return invoke(fn as (...a: unknown[]) => unknown, args, node);
    if (fn === undefined) return fail(`cannot call ${name}: no such function`, node);
    return fail(`${name} is not callable`, node);
  }
  if (obj instanceof GoDuration) {
    const ns = obj.nanoseconds;
    switch (name) {
      case "Hours":
        return ns / 3600e9;
      case "Minutes":
        return ns / 60e9;
      case "Seconds":
        return ns / 1e9;
      case "Milliseconds":
        return BigInt(Math.trunc(ns / 1e6));
      case "Microseconds":
        return BigInt(Math.trunc(ns / 1e3));
      case "Nanoseconds":
        return BigInt(Math.trunc(ns));
      case "String":
        return obj.toString();
      case "Abs":
        return new GoDuration(Math.abs(ns));
    }
  }
  if (obj instanceof Date) {
    const arg = args[0];
    switch (name) {
      case "Year":
        return BigInt(obj.getUTCFullYear());
      case "Month":
        return BigInt(obj.getUTCMonth() + 1);
      case "Day":
        return BigInt(obj.getUTCDate());
      case "Hour":
        return BigInt(obj.getUTCHours());
      case "Minute":
        return BigInt(obj.getUTCMinutes());
      case "Second":
        return BigInt(obj.getUTCSeconds());
      case "Nanosecond":
        return BigInt(obj.getUTCMilliseconds() * 1_000_000);
      case "Weekday":
        return BigInt(obj.getUTCDay());
      case "Unix":
        return BigInt(Math.floor(obj.getTime() / 1000));
      case "UnixMilli":
        return BigInt(obj.getTime());
      case "UnixNano":
        return BigInt(obj.getTime()) * 1_000_000n;
      case "UTC":
      case "Local":
        return obj;
      case "IsZero":
        return obj.getTime() === Date.UTC(1, 0, 1) - 0;
      case "Format":
        if (typeof arg !== "string") break;
        return formatGoTime(obj, arg);
      case "Add":
        if (!(arg instanceof GoDuration)) break;
        return new Date(obj.getTime() + arg.nanoseconds / 1e6);
      case "Sub":
        if (!(arg instanceof Date)) break;
        return new GoDuration((obj.getTime() - arg.getTime()) * 1e6);
      case "Before":
        if (!(arg instanceof Date)) break;
        return obj.getTime() < arg.getTime();
      case "After":
        if (!(arg instanceof Date)) break;
        return obj.getTime() > arg.getTime();
      case "Equal":
        if (!(arg instanceof Date)) break;
        return obj.getTime() === arg.getTime();
      case "AddDate": {
        const [y, m, d] = args.map((x) => (isNumber(x) ? Number(x) : 0));
        const r = new Date(obj.getTime());
        r.setUTCFullYear(
          r.getUTCFullYear() + (y ?? 0),
          r.getUTCMonth() + (m ?? 0),
          r.getUTCDate() + (d ?? 0),
        );
        return r;
      }
    }
  }
  return fail(`type ${goTypeName(obj)} has no method ${name}`, node);
}
