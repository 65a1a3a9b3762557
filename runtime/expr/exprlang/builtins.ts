import { compare } from "./compare.js";
import {
  EvalError,
  GoDuration,
  formatGoValue,
  goTypeName,
  int64,
  isDict,
  isNil,
  isNumber,
  marshalGoJson,
  parseGoDuration,
  parseGoTime,
  toFloat,
  valuesEqual,
} from "./values.js";

type Builtin = (args: unknown[]) => unknown;

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new EvalError(
      `invalid number of arguments for ${name} (expected ${min === max ? min : `${min}-${max}`}, got ${args.length})`,
    );
  }
}

function str(name: string, v: unknown): string {
  if (typeof v !== "string") throw new EvalError(`invalid argument for ${name} (type ${goTypeName(v)})`);
  return v;
}

function arr(name: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw new EvalError(`invalid argument for ${name} (type ${goTypeName(v)})`);
}

function intArg(name: string, v: unknown): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new EvalError(`invalid argument for ${name} (type ${goTypeName(v)})`);
}

/** expr-lang `int()`: truncates floats, parses decimal strings (strconv.Atoi). */
export function toInt(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new EvalError(`invalid operation: int(${formatGoValue(v)})`);
    return int64(BigInt(Math.trunc(v)));
  }
  if (typeof v === "string") {
    if (!/^[+-]?\d+$/.test(v)) throw new EvalError(`invalid operation: int(${v})`);
    const n = BigInt(v);
    if (n !== int64(n)) throw new EvalError(`invalid operation: int(${v})`);
    return n;
  }
  throw new EvalError(`invalid operation: int(${goTypeName(v)})`);
}

/** expr-lang `float()`: strconv.ParseFloat for strings. */
export function toFloat64(v: unknown): number {
  if (isNumber(v)) return toFloat(v);
  if (typeof v === "string") {
    const t = v.trim() === v ? v : "";
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?(inf|infinity|nan)$/i.test(t)) {
      if (/nan/i.test(t)) return NaN;
      if (/inf/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
      return Number(t);
    }
    throw new EvalError(`invalid operation: float(${v})`);
  }
  throw new EvalError(`invalid operation: float(${goTypeName(v)})`);
}

function numbersOf(name: string, args: unknown[]): (number | bigint)[] {
  const flat: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else flat.push(v);
  };
  args.forEach(walk);
  return flat.map((v) => {
    if (!isNumber(v)) throw new EvalError(`invalid argument for ${name} (type ${goTypeName(v)})`);
    return v;
  });
}

function sumOf(values: (number | bigint)[]): number | bigint {
  if (values.every((v) => typeof v === "bigint"))
    return values.reduce<bigint>((a, b) => int64(a + (b as bigint)), 0n);
  return values.reduce<number>((a, b) => a + toFloat(b), 0);
}

/** expr-lang's `date()` layouts, in its order (RFC 3339 also accepts fractional seconds, as Go's parser does). */
const dateLayouts = [
  "2006-01-02",
  "15:04:05",
  "2006-01-02 15:04:05",
  "2006-01-02T15:04:05Z07:00",
  "02 Jan 06 15:04 MST",
  "Monday, 02-Jan-06 15:04:05 MST",
  "Mon, 02 Jan 2006 15:04:05 MST",
];

/** expr-lang `date(text[, layout[, timezone]])`. */
export function parseDate(args: unknown[]): Date {
  arity("date", args, 1, 3);
  const [value, layout] = args;
  if (value instanceof Date) return value;
  if (isNumber(value)) return new Date(toFloat(value) * 1000);
  const text = str("date", value);
  if (typeof layout === "string") {
    const d = parseGoTime(text, layout);
    if (!d)
      throw new EvalError(`parsing time ${JSON.stringify(text)} as ${JSON.stringify(layout)}: cannot parse`);
    return d;
  }
  for (const l of dateLayouts) {
    const d = parseGoTime(text, l);
    if (d) return d;
  }
  throw new EvalError(`invalid date ${text}`);
}

function typeOf(v: unknown): string {
  if (isNil(v)) return "nil";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "float";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "time.Time";
  if (v instanceof GoDuration) return "time.Duration";
  if (typeof v === "function") return "func";
  return "map";
}

function flatten(v: unknown[]): unknown[] {
  return v.flatMap((x) => (Array.isArray(x) ? flatten(x) : [x]));
}

function sortValues(name: string, items: unknown[], order: unknown = "asc"): unknown[] {
  const copy = [...items];
  copy.sort((a, b) => {
    const c = compare(a, b);
    if (c === undefined) throw new EvalError(`${name}: cannot compare ${goTypeName(a)} and ${goTypeName(b)}`);
    return order === "desc" ? -c : c;
  });
  return copy;
}

function goSplit(s: string, sep: string, n: number, after: boolean): string[] {
  if (n === 0) return [];
  let parts: string[];
  if (sep === "") parts = [...s];
  else {
    parts = [];
    let rest = s;
    for (;;) {
      if (n > 0 && parts.length === n - 1) break;
      const i = rest.indexOf(sep);
      if (i < 0) break;
      parts.push(rest.slice(0, i) + (after ? sep : ""));
      rest = rest.slice(i + sep.length);
    }
    parts.push(rest);
    return parts;
  }
  if (n > 0 && parts.length > n) parts = [...parts.slice(0, n - 1), parts.slice(n - 1).join("")];
  return parts;
}

const builtins: Record<string, Builtin> = {
  len: (a) => {
    arity("len", a, 1);
    const v = a[0];
    // Go's len counts bytes of a string.
    if (typeof v === "string") return BigInt(Buffer.byteLength(v, "utf8"));
    if (Array.isArray(v)) return BigInt(v.length);
    if (isDict(v)) return BigInt(Object.keys(v).length);
    throw new EvalError(`invalid argument for len (type ${goTypeName(v)})`);
  },
  type: (a) => (arity("type", a, 1), typeOf(a[0])),
  abs: (a) => {
    arity("abs", a, 1);
    const v = a[0];
    if (typeof v === "bigint") return v < 0n ? -v : v;
    if (typeof v === "number") return Math.abs(v);
    throw new EvalError(`invalid argument for abs (type ${goTypeName(v)})`);
  },
  ceil: (a) => (arity("ceil", a, 1), Math.ceil(toFloat(numbersOf("ceil", a)[0] ?? 0))),
  floor: (a) => (arity("floor", a, 1), Math.floor(toFloat(numbersOf("floor", a)[0] ?? 0))),
  round: (a) => {
    arity("round", a, 1);
    const v = toFloat(numbersOf("round", a)[0] ?? 0);
    return Math.sign(v) * Math.round(Math.abs(v));
  },
  int: (a) => (arity("int", a, 1), toInt(a[0])),
  float: (a) => (arity("float", a, 1), toFloat64(a[0])),
  string: (a) => (arity("string", a, 1), formatGoValue(a[0])),
  trim: (a) => {
    arity("trim", a, 1, 2);
    const s = str("trim", a[0]);
    if (a.length === 1) return s.replace(/^\s+|\s+$/gu, "");
    const cut = [...str("trim", a[1])];
    let chars = [...s];
    while (chars.length && cut.includes(chars[0] ?? "")) chars = chars.slice(1);
    while (chars.length && cut.includes(chars[chars.length - 1] ?? "")) chars = chars.slice(0, -1);
    return chars.join("");
  },
  trimPrefix: (a) => {
    arity("trimPrefix", a, 1, 2);
    const s = str("trimPrefix", a[0]);
    const p = a.length > 1 ? str("trimPrefix", a[1]) : " ";
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (a) => {
    arity("trimSuffix", a, 1, 2);
    const s = str("trimSuffix", a[0]);
    const p = a.length > 1 ? str("trimSuffix", a[1]) : " ";
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  upper: (a) => (arity("upper", a, 1), str("upper", a[0]).toUpperCase()),
  lower: (a) => (arity("lower", a, 1), str("lower", a[0]).toLowerCase()),
  split: (a) => {
    arity("split", a, 2, 3);
    return goSplit(str("split", a[0]), str("split", a[1]), a.length > 2 ? intArg("split", a[2]) : -1, false);
  },
  splitAfter: (a) => {
    arity("splitAfter", a, 2, 3);
    return goSplit(
      str("splitAfter", a[0]),
      str("splitAfter", a[1]),
      a.length > 2 ? intArg("splitAfter", a[2]) : -1,
      true,
    );
  },
  replace: (a) => {
    arity("replace", a, 3, 4);
    const parts = str("replace", a[0]).split(str("replace", a[1]));
    const n = a.length === 4 ? intArg("replace", a[3]) : -1;
    if (n < 0 || n >= parts.length - 1) return parts.join(str("replace", a[2]));
    return (
      parts.slice(0, n + 1).join(str("replace", a[2])) +
      str("replace", a[1]) +
      parts.slice(n + 1).join(str("replace", a[1]))
    );
  },
  repeat: (a) => {
    arity("repeat", a, 2);
    const n = intArg("repeat", a[1]);
    if (n < 0) throw new EvalError(`invalid argument for repeat (expected positive integer, got ${n})`);
    if (n > 1e6) throw new EvalError("memory budget exceeded");
    return str("repeat", a[0]).repeat(n);
  },
  join: (a) => {
    arity("join", a, 1, 2);
    const items = arr("join", a[0]).map((x) => str("join", x));
    return items.join(a.length > 1 ? str("join", a[1]) : "");
  },
  indexOf: (a) => {
    arity("indexOf", a, 2);
    const s = str("indexOf", a[0]);
    const i = s.indexOf(str("indexOf", a[1]));
    return BigInt(i < 0 ? -1 : Buffer.byteLength(s.slice(0, i), "utf8"));
  },
  lastIndexOf: (a) => {
    arity("lastIndexOf", a, 2);
    const s = str("lastIndexOf", a[0]);
    const i = s.lastIndexOf(str("lastIndexOf", a[1]));
    return BigInt(i < 0 ? -1 : Buffer.byteLength(s.slice(0, i), "utf8"));
  },
  hasPrefix: (a) => (arity("hasPrefix", a, 2), str("hasPrefix", a[0]).startsWith(str("hasPrefix", a[1]))),
  hasSuffix: (a) => (arity("hasSuffix", a, 2), str("hasSuffix", a[0]).endsWith(str("hasSuffix", a[1]))),
  max: (a) => {
    const ns = numbersOf("max", a);
    if (ns.length === 0) throw new EvalError("not enough arguments to call max");
    return ns.reduce((m, v) => ((compare(v, m) ?? 0) > 0 ? v : m));
  },
  min: (a) => {
    const ns = numbersOf("min", a);
    if (ns.length === 0) throw new EvalError("not enough arguments to call min");
    return ns.reduce((m, v) => ((compare(v, m) ?? 0) < 0 ? v : m));
  },
  sum: (a) => (arity("sum", a, 1), sumOf(numbersOf("sum", [arr("sum", a[0])]))),
  mean: (a) => {
    const ns = numbersOf("mean", a);
    if (ns.length === 0) return 0;
    return ns.reduce<number>((s, v) => s + toFloat(v), 0) / ns.length;
  },
  median: (a) => {
    const ns = numbersOf("median", a)
      .map(toFloat)
      .sort((x, y) => x - y);
    if (ns.length === 0) return 0;
    const mid = Math.floor(ns.length / 2);
    return ns.length % 2 ? (ns[mid] ?? 0) : ((ns[mid - 1] ?? 0) + (ns[mid] ?? 0)) / 2;
  },
  toJSON: (a) => (arity("toJSON", a, 1), marshalGoJson(a[0], { indent: "  " })),
  fromJSON: (a) => {
    arity("fromJSON", a, 1);
    try {
      return JSON.parse(str("fromJSON", a[0])) as unknown;
    } catch (e) {
      if (e instanceof EvalError) throw e;
      throw new EvalError(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
  toBase64: (a) => (arity("toBase64", a, 1), Buffer.from(str("toBase64", a[0]), "utf8").toString("base64")),
  fromBase64: (a) => {
    arity("fromBase64", a, 1);
    const s = str("fromBase64", a[0]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0)
      throw new EvalError("illegal base64 data at input byte 0");
    return Buffer.from(s, "base64").toString("utf8");
  },
  duration: (a) => (arity("duration", a, 1), parseGoDuration(str("duration", a[0]))),
  date: (a) => parseDate(a),
  first: (a) => {
    arity("first", a, 1);
    const v = a[0];
    return Array.isArray(v) ? (v[0] ?? null) : null;
  },
  last: (a) => {
    arity("last", a, 1);
    const v = a[0];
    return Array.isArray(v) ? (v[v.length - 1] ?? null) : null;
  },
  get: (a) => {
    arity("get", a, 2);
    const [v, k] = a;
    if (Array.isArray(v) && isNumber(k)) {
      let i = Number(k);
      if (i < 0) i += v.length;
      return v[i] ?? null;
    }
    if (isDict(v) && typeof k === "string") return Object.hasOwn(v, k) ? v[k] : null;
    return null;
  },
  take: (a) => (arity("take", a, 2), arr("take", a[0]).slice(0, Math.max(0, intArg("take", a[1])))),
  keys: (a) => {
    arity("keys", a, 1);
    const v = a[0];
    if (!isDict(v)) throw new EvalError(`cannot get keys from ${goTypeName(v)}`);
    return Object.keys(v).sort();
  },
  values: (a) => {
    arity("values", a, 1);
    const v = a[0];
    if (!isDict(v)) throw new EvalError(`cannot get values from ${goTypeName(v)}`);
    return Object.keys(v)
      .sort()
      .map((k) => v[k]);
  },
  toPairs: (a) => {
    arity("toPairs", a, 1);
    const v = a[0];
    if (!isDict(v)) throw new EvalError(`cannot transform ${goTypeName(v)} to pairs`);
    return Object.keys(v)
      .sort()
      .map((k) => [k, v[k]]);
  },
  fromPairs: (a) => {
    arity("fromPairs", a, 1);
    const out: Record<string, unknown> = {};
    for (const p of arr("fromPairs", a[0])) {
      const pair = arr("fromPairs", p);
      out[String(pair[0])] = pair[1];
    }
    return out;
  },
  sort: (a) => (arity("sort", a, 1, 2), sortValues("sort", arr("sort", a[0]), a[1])),
  reverse: (a) => (arity("reverse", a, 1), [...arr("reverse", a[0])].reverse()),
  uniq: (a) => {
    arity("uniq", a, 1);
    const out: unknown[] = [];
    for (const v of arr("uniq", a[0])) if (!out.some((x) => valuesEqual(x, v))) out.push(v);
    return out;
  },
  concat: (a) => a.flatMap((x) => arr("concat", x)),
  flatten: (a) => (arity("flatten", a, 1), flatten(arr("flatten", a[0]))),
  bitand: (a) => (arity("bitand", a, 2), toInt(a[0]) & toInt(a[1])),
  bitor: (a) => (arity("bitor", a, 2), toInt(a[0]) | toInt(a[1])),
  bitxor: (a) => (arity("bitxor", a, 2), toInt(a[0]) ^ toInt(a[1])),
  bitnand: (a) => (arity("bitnand", a, 2), toInt(a[0]) & ~toInt(a[1])),
  bitnot: (a) => (arity("bitnot", a, 1), ~toInt(a[0])),
  bitshl: (a) => (arity("bitshl", a, 2), int64(toInt(a[0]) << toInt(a[1]))),
  bitshr: (a) => (arity("bitshr", a, 2), toInt(a[0]) >> toInt(a[1])),
  bitushr: (a) => (arity("bitushr", a, 2), BigInt.asIntN(64, BigInt.asUintN(64, toInt(a[0])) >> toInt(a[1]))),
};

export function hasBuiltin(name: string): boolean {
  return Object.hasOwn(builtins, name) || name === "now";
}

export function callBuiltin(name: string, args: unknown[]): unknown {
  const fn = builtins[name];
  if (!fn) throw new EvalError(`unknown func ${name}`);
  return fn(args);
}
