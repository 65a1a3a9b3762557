import { createHash, randomBytes, randomUUID } from "node:crypto";
import { toInt } from "./exprlang/builtins.js";
import { compileRegex } from "./exprlang/regex.js";
import {
  EvalError,
  GoDuration,
  deepEqual,
  formatGoDuration,
  formatGoTime,
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
} from "./exprlang/values.js";

type Fn = (...args: unknown[]) => unknown;

/** spf13/cast ToInt64 as sprig uses it: failures become 0. */
function toInt64(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isFinite(v) ? int64(BigInt(Math.trunc(v))) : 0n;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "string") {
    const s = v.replace(/\.0*$/, "");
    try {
      if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9]\d*|0)$/.test(s)) {
        const neg = s.startsWith("-");
        const body = s.replace(/^[+-]/, "");
        const n = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body);
        return neg ? -n : n;
      }
    } catch {
      return 0n;
    }
    return 0n;
  }
  return 0n;
}

/** spf13/cast ToFloat64 as sprig uses it: failures become 0. */
function toFloat64(v: unknown): number {
  if (isNumber(v)) return toFloat(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = Number(v);
    return v.trim() !== "" && !Number.isNaN(n) ? n : 0;
  }
  return 0;
}

/** sprig's strval: strings as is, everything else via `%v`. */
function strval(v: unknown): string {
  return typeof v === "string" ? v : formatGoValue(v);
}

function toStringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(strval);
  if (isNil(v)) return [];
  return [strval(v)];
}

function list(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new EvalError(`Cannot ${fn} on type ${goTypeName(v)}`);
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c === 12) out += "\\f";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 11) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** sprig's `empty`: Go zero values are empty. */
function isEmpty(v: unknown): boolean {
  if (isNil(v)) return true;
  if (typeof v === "string") return v === "";
  if (typeof v === "boolean") return !v;
  if (typeof v === "bigint") return v === 0n;
  if (typeof v === "number") return v === 0;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Date) return false;
  if (v instanceof GoDuration) return v.nanoseconds === 0;
  if (isDict(v)) return Object.keys(v).length === 0;
  return false;
}

/** Go regexp template expansion (`$1`, `${1}`, `$name`, `$$`). */
function expandTemplate(template: string, groups: (string | null)[], names: Record<string, number>): string {
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_m, all: string, braced?: string, bare?: string) => {
    if (all === "$") return "$";
    const name = braced ?? bare ?? "";
    const index = /^\d+$/.test(name) ? Number(name) : names[name];
    return index === undefined ? "" : (groups[index] ?? "");
  });
}

interface GoMatch {
  start: number;
  end: number;
  groups: (string | null)[];
}

/** Go's allMatches: successive non-overlapping matches, skipping an empty match right after the previous one. */
function goMatches(pattern: string, s: string, n: number): GoMatch[] {
  const m = compileRegex(pattern).matcher(s);
  const out: GoMatch[] = [];
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && m.find()) {
    const start = m.start();
    const end = m.end();
    if (start === end && start === prevEnd) continue;
    prevEnd = end;
    const groups: (string | null)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i));
    out.push({ start, end, groups });
  }
  return out;
}

function regexFindAll(pattern: string, s: string, n: number): string[] {
  return goMatches(pattern, s, n).map((m) => m.groups[0] ?? "");
}

function regexReplace(pattern: string, s: string, repl: string, literal: boolean): string {
  const names = compileRegex(pattern).namedGroups() as Record<string, number>;
  let out = "";
  let last = 0;
  for (const m of goMatches(pattern, s, -1)) {
    out += s.slice(last, m.start) + (literal ? repl : expandTemplate(repl, m.groups, names));
    last = m.end;
  }
  return out + s.slice(last);
}

/** Go's Regexp.Split. */
function regexSplit(pattern: string, s: string, n: number): string[] {
  if (n === 0) return [];
  if (pattern.length > 0 && s.length === 0) return [""];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of goMatches(pattern, s, n)) {
    if (n > 0 && out.length === n - 1) break;
    end = m.start;
    if (m.end !== 0) out.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

function toDate(v: unknown, now: () => Date): Date {
  if (v instanceof Date) return v;
  if (typeof v === "bigint") return new Date(Number(v) * 1000);
  return now();
}

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_\-.]+/)
    .filter(Boolean);
}

function b32encode(buf: Buffer): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += "=";
  return out;
}

function b32decode(s: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = s.replace(/=+$/, "");
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new EvalError("illegal base32 data");
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function randomString(n: unknown, alphabet: string): string {
  const count = Number(toInt64(n));
  const bytes = randomBytes(Math.max(count, 0));
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function until(start: bigint, stop: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  if (step === 0n) return out;
  if (step > 0n) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

/**
 * The Masterminds/sprig v3 generic function map as Argo exposes it under `sprig.` (without `env` and
 * `expandenv`). Numbers follow sprig's casts: integer functions return int64 and turn unparsable input into 0.
 */
export function createSprig(now: () => Date): Record<string, Fn> {
  const fns: Record<string, Fn> = {
    // strings
    upper: (s) => strval(s).toUpperCase(),
    lower: (s) => strval(s).toLowerCase(),
    title: (s) =>
      strval(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
    untitle: (s) => strval(s).replace(/(^|\s)(\p{L})/gu, (_m, p: string, c: string) => p + c.toLowerCase()),
    swapcase: (s) =>
      [...strval(s)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(""),
    trim: (s) => strval(s).trim(),
    trimAll: (cut, s) => {
      const chars = [...strval(cut)];
      let t = [...strval(s)];
      while (t.length && chars.includes(t[0] ?? "")) t = t.slice(1);
      while (t.length && chars.includes(t[t.length - 1] ?? "")) t = t.slice(0, -1);
      return t.join("");
    },
    trimPrefix: (p, s) => (strval(s).startsWith(strval(p)) ? strval(s).slice(strval(p).length) : strval(s)),
    trimSuffix: (p, s) => {
      const str = strval(s);
      const suf = strval(p);
      return suf && str.endsWith(suf) ? str.slice(0, str.length - suf.length) : str;
    },
    trunc: (c, s) => {
      const n = Number(toInt64(c));
      const str = strval(s);
      if (n < 0 && str.length + n > 0) return str.slice(str.length + n);
      if (n >= 0 && str.length > n) return str.slice(0, n);
      return str;
    },
    abbrev: (width, s) => {
      const w = Number(toInt64(width));
      const str = strval(s);
      if (str.length <= w) return str;
      if (w < 4) return str;
      return `${str.slice(0, w - 3)}...`;
    },
    substr: (start, end, s) => {
      const str = strval(s);
      let a = Number(toInt64(start));
      let b = Number(toInt64(end));
      if (a < 0) return str.slice(0, b);
      if (b < 0 || b > str.length) b = str.length;
      if (a > b) a = b;
      return str.slice(a, b);
    },
    repeat: (count, s) => strval(s).repeat(Math.max(0, Number(toInt64(count)))),
    replace: (oldS, newS, src) => strval(src).split(strval(oldS)).join(strval(newS)),
    contains: (sub, s) => strval(s).includes(strval(sub)),
    hasPrefix: (p, s) => strval(s).startsWith(strval(p)),
    hasSuffix: (p, s) => strval(s).endsWith(strval(p)),
    quote: (...xs) =>
      xs
        .filter((x) => !isNil(x))
        .map((x) => goQuote(strval(x)))
        .join(" "),
    squote: (...xs) =>
      xs
        .filter((x) => !isNil(x))
        .map((x) => `'${strval(x)}'`)
        .join(" "),
    cat: (...xs) =>
      xs
        .filter((x) => !isNil(x))
        .map(strval)
        .join(" "),
    indent: (n, s) => {
      const pad = " ".repeat(Number(toInt64(n)));
      return pad + strval(s).replace(/\n/g, `\n${pad}`);
    },
    nindent: (n, s) => {
      const pad = " ".repeat(Number(toInt64(n)));
      return `\n${pad}${strval(s).replace(/\n/g, `\n${pad}`)}`;
    },
    nospace: (s) => strval(s).replace(/\s/g, ""),
    initials: (s) =>
      strval(s)
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => [...w][0])
        .join(""),
    wrap: (width, s) => {
      const w = Number(toInt64(width));
      const out: string[] = [];
      let line = "";
      for (const word of strval(s).split(/\s+/).filter(Boolean)) {
        if (line && line.length + 1 + word.length > w) {
          out.push(line);
          line = word;
        } else line = line ? `${line} ${word}` : word;
      }
      if (line) out.push(line);
      return out.join("\n");
    },
    plural: (one, many, count) => (toInt64(count) === 1n ? strval(one) : strval(many)),
    snakecase: (s) =>
      words(strval(s))
        .map((w) => w.toLowerCase())
        .join("_"),
    kebabcase: (s) =>
      words(strval(s))
        .map((w) => w.toLowerCase())
        .join("-"),
    camelcase: (s) =>
      strval(s)
        .split("_")
        .map((w) => (w ? (w[0] ?? "").toUpperCase() + w.slice(1) : ""))
        .join(""),
    shuffle: (s) => [...strval(s)].sort(() => (randomBytes(1)[0] ?? 0) - 128).join(""),
    toString: (v: unknown) => strval(v),
    toStrings: (v) => toStringList(v),
    join: (sep, v) => toStringList(v).join(strval(sep)),
    split: (sep, s) => {
      const out: Record<string, string> = {};
      strval(s)
        .split(strval(sep))
        .forEach((p, i) => (out[`_${i}`] = p));
      return out;
    },
    splitList: (sep, s) => strval(s).split(strval(sep)),
    splitn: (sep, n, s) => {
      const count = Number(toInt64(n));
      const parts = strval(s).split(strval(sep));
      const capped =
        count > 0 && parts.length > count
          ? [...parts.slice(0, count - 1), parts.slice(count - 1).join(strval(sep))]
          : parts;
      const out: Record<string, string> = {};
      capped.forEach((p, i) => (out[`_${i}`] = p));
      return out;
    },
    sortAlpha: (v) => toStringList(v).sort(),
    // conversions
    atoi: (s) => {
      try {
        return toInt(strval(s));
      } catch {
        return 0n;
      }
    },
    int: (v) => toInt64(v),
    int64: (v) => toInt64(v),
    float64: (v) => toFloat64(v),
    toDecimal: (v) => {
      const s = strval(v);
      return /^[0-7]+$/.test(s) ? BigInt(`0o${s}`) : 0n;
    },
    // math
    add1: (v) => int64(toInt64(v) + 1n),
    add: (...xs) => xs.reduce<bigint>((a, x) => int64(a + toInt64(x)), 0n),
    sub: (a, b) => int64(toInt64(a) - toInt64(b)),
    mul: (a, ...xs) => xs.reduce<bigint>((acc, x) => int64(acc * toInt64(x)), toInt64(a)),
    div: (a, b) => {
      const d = toInt64(b);
      if (d === 0n) throw new EvalError("runtime error: integer divide by zero");
      return toInt64(a) / d;
    },
    mod: (a, b) => {
      const d = toInt64(b);
      if (d === 0n) throw new EvalError("runtime error: integer divide by zero");
      return toInt64(a) % d;
    },
    max: (a, ...xs) => xs.reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a)),
    min: (a, ...xs) => xs.reduce<bigint>((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a)),
    biggest: (a, ...xs) => xs.reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a)),
    addf: (...xs) => xs.reduce<number>((a, x) => a + toFloat64(x), 0),
    add1f: (v) => toFloat64(v) + 1,
    subf: (a, ...xs) => xs.reduce<number>((acc, x) => acc - toFloat64(x), toFloat64(a)),
    mulf: (a, ...xs) => xs.reduce<number>((acc, x) => acc * toFloat64(x), toFloat64(a)),
    divf: (a, ...xs) => xs.reduce<number>((acc, x) => acc / toFloat64(x), toFloat64(a)),
    maxf: (a, ...xs) => xs.reduce<number>((m, x) => Math.max(m, toFloat64(x)), toFloat64(a)),
    minf: (a, ...xs) => xs.reduce<number>((m, x) => Math.min(m, toFloat64(x)), toFloat64(a)),
    floor: (v) => Math.floor(toFloat64(v)),
    ceil: (v) => Math.ceil(toFloat64(v)),
    round: (v, p, r) => {
      const places = Number(toInt64(p));
      const half = r === undefined ? 0.5 : toFloat64(r);
      const pow = 10 ** places;
      const x = toFloat64(v) * pow;
      const whole = Math.trunc(x);
      const rounded = Math.abs(x - whole) >= half ? whole + Math.sign(x) : whole;
      return rounded / pow;
    },
    until: (n) => {
      const c = toInt64(n);
      return until(0n, c, c < 0n ? -1n : 1n);
    },
    untilStep: (start, stop, step) => until(toInt64(start), toInt64(stop), toInt64(step)),
    seq: (...xs) => {
      const p = xs.map(toInt64);
      if (p.length === 1) return until(1n, (p[0] ?? 0n) + 1n, 1n).join(" ");
      if (p.length === 2) {
        const [a = 0n, b = 0n] = p;
        return (a <= b ? until(a, b + 1n, 1n) : until(a, b - 1n, -1n)).join(" ");
      }
      if (p.length === 3) {
        const [a = 0n, step = 1n, b = 0n] = p;
        return until(a, step > 0n ? b + 1n : b - 1n, step).join(" ");
      }
      return "";
    },
    // defaults and logic
    default: (d, ...given) => (given.length === 0 || isEmpty(given[0]) ? d : given[0]),
    empty: (v) => isEmpty(v),
    coalesce: (...xs) => xs.find((x) => !isEmpty(x)) ?? null,
    all: (...xs) => xs.every((x) => !isEmpty(x)),
    any: (...xs) => xs.some((x) => !isEmpty(x)),
    ternary: (vt, vf, cond) => (cond === true ? vt : vf),
    fail: (msg) => {
      throw new EvalError(strval(msg));
    },
    deepEqual: (a, b) => deepEqual(a, b),
    typeOf: (v) => goTypeName(v),
    kindOf: (v) => kindOf(v),
    typeIs: (t, v) => strval(t) === goTypeName(v),
    kindIs: (t, v) => strval(t) === kindOf(v),
    // encoding
    b64enc: (s) => Buffer.from(strval(s), "utf8").toString("base64"),
    b64dec: (s) => {
      const str = strval(s);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(str) || str.length % 4 !== 0)
        return "illegal base64 data at input byte 0";
      return Buffer.from(str, "base64").toString("utf8");
    },
    b32enc: (s) => b32encode(Buffer.from(strval(s), "utf8")),
    b32dec: (s) => b32decode(strval(s)).toString("utf8"),
    sha1sum: (s) => createHash("sha1").update(strval(s)).digest("hex"),
    sha256sum: (s) => createHash("sha256").update(strval(s)).digest("hex"),
    sha512sum: (s) => createHash("sha512").update(strval(s)).digest("hex"),
    adler32sum: (s) => {
      let a = 1;
      let b = 0;
      for (const byte of Buffer.from(strval(s), "utf8")) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
      }
      return String(((b << 16) | a) >>> 0);
    },
    uuidv4: () => randomUUID(),
    randAlphaNum: (n) => randomString(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
    randAlpha: (n) => randomString(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
    randNumeric: (n) => randomString(n, "0123456789"),
    randAscii: (n) =>
      randomString(n, Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join("")),
    toJson: (v) => {
      try {
        return marshalGoJson(v);
      } catch {
        return "";
      }
    },
    toPrettyJson: (v) => marshalGoJson(v, { indent: "  " }),
    toRawJson: (v) => JSON.stringify(JSON.parse(marshalGoJson(v))),
    fromJson: (s) => {
      try {
        return JSON.parse(strval(s)) as unknown;
      } catch {
        return null;
      }
    },
    mustToJson: (v) => marshalGoJson(v),
    mustFromJson: (s) => {
      try {
        return JSON.parse(strval(s)) as unknown;
      } catch (e) {
        throw new EvalError(e instanceof Error ? e.message : String(e));
      }
    },
    // regex
    regexMatch: (re, s) => compileRegex(strval(re)).matcher(strval(s)).find(),
    mustRegexMatch: (re, s) => compileRegex(strval(re)).matcher(strval(s)).find(),
    regexFind: (re, s) => regexFindAll(strval(re), strval(s), 1)[0] ?? "",
    regexFindAll: (re, s, n) => regexFindAll(strval(re), strval(s), Number(toInt64(n))),
    regexReplaceAll: (re, s, repl) => regexReplace(strval(re), strval(s), strval(repl), false),
    regexReplaceAllLiteral: (re, s, repl) => regexReplace(strval(re), strval(s), strval(repl), true),
    regexSplit: (re, s, n) => regexSplit(strval(re), strval(s), Number(toInt64(n))),
    regexQuoteMeta: (s) => strval(s).replace(/[\\.+*?()|[\]{}^$]/g, "\\$&"),
    // lists
    list: (...xs) => xs,
    tuple: (...xs) => xs,
    first: (v) => list(v, "first")[0] ?? null,
    last: (v) => {
      const l = list(v, "last");
      return l[l.length - 1] ?? null;
    },
    rest: (v) => list(v, "rest").slice(1),
    initial: (v) => list(v, "initial").slice(0, -1),
    append: (v, x) => [...list(v, "append"), x],
    push: (v, x) => [...list(v, "push"), x],
    prepend: (v, x) => [x, ...list(v, "prepend")],
    concat: (...xs) => xs.flatMap((x) => list(x, "concat")),
    reverse: (v) => [...list(v, "reverse")].reverse(),
    uniq: (v) => {
      const out: unknown[] = [];
      for (const x of list(v, "uniq")) if (!out.some((y) => deepEqual(x, y))) out.push(x);
      return out;
    },
    without: (v, ...omit) => list(v, "without").filter((x) => !omit.some((o) => deepEqual(x, o))),
    has: (needle, v) => (isNil(v) ? false : list(v, "has").some((x) => deepEqual(x, needle))),
    compact: (v) => list(v, "compact").filter((x) => !isEmpty(x)),
    slice: (v, ...idx) => {
      const l = list(v, "slice");
      const a = idx[0] === undefined ? 0 : Number(toInt64(idx[0]));
      const b = idx[1] === undefined ? l.length : Number(toInt64(idx[1]));
      return l.slice(a, b);
    },
    chunk: (size, v) => {
      const n = Number(toInt64(size));
      const l = list(v, "chunk");
      const out: unknown[][] = [];
      for (let i = 0; i < l.length; i += n) out.push(l.slice(i, i + n));
      return out;
    },
    // dicts
    dict: (...kv) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < kv.length; i += 2) out[strval(kv[i])] = i + 1 < kv.length ? kv[i + 1] : "";
      return out;
    },
    get: (d, k) => (isDict(d) && Object.hasOwn(d, strval(k)) ? d[strval(k)] : ""),
    set: (d, k, v) => {
      if (!isDict(d)) throw new EvalError(`Cannot set on type ${goTypeName(d)}`);
      d[strval(k)] = v;
      return d;
    },
    unset: (d, k) => {
      if (!isDict(d)) throw new EvalError(`Cannot unset on type ${goTypeName(d)}`);
      delete d[strval(k)];
      return d;
    },
    hasKey: (d, k) => isDict(d) && Object.hasOwn(d, strval(k)),
    keys: (...ds) => ds.flatMap((d) => (isDict(d) ? Object.keys(d) : [])),
    values: (d) => (isDict(d) ? Object.values(d) : []),
    pluck: (k, ...ds) =>
      ds
        .filter((d) => isDict(d) && Object.hasOwn(d, strval(k)))
        .map((d) => (d as Record<string, unknown>)[strval(k)]),
    pick: (d, ...ks) => {
      const out: Record<string, unknown> = {};
      if (isDict(d)) for (const k of ks.map(strval)) if (Object.hasOwn(d, k)) out[k] = d[k];
      return out;
    },
    omit: (d, ...ks) => {
      const skip = new Set(ks.map(strval));
      const out: Record<string, unknown> = {};
      if (isDict(d)) for (const [k, v] of Object.entries(d)) if (!skip.has(k)) out[k] = v;
      return out;
    },
    merge: (dst, ...srcs) => {
      if (!isDict(dst)) throw new EvalError(`Cannot merge into ${goTypeName(dst)}`);
      for (const src of srcs)
        if (isDict(src)) for (const [k, v] of Object.entries(src)) if (!Object.hasOwn(dst, k)) dst[k] = v;
      return dst;
    },
    mergeOverwrite: (dst, ...srcs) => {
      if (!isDict(dst)) throw new EvalError(`Cannot merge into ${goTypeName(dst)}`);
      for (const src of srcs) if (isDict(src)) Object.assign(dst, src);
      return dst;
    },
    // dates
    now: () => now(),
    date: (fmt, d) => formatGoTime(toDate(d, now), strval(fmt)),
    dateInZone: (fmt, d) => formatGoTime(toDate(d, now), strval(fmt)),
    htmlDate: (d) => formatGoTime(toDate(d, now), "2006-01-02"),
    htmlDateInZone: (d) => formatGoTime(toDate(d, now), "2006-01-02"),
    unixEpoch: (d) => String(Math.floor((d instanceof Date ? d : now()).getTime() / 1000)),
    toDate: (fmt, s) => parseGoTime(strval(s), strval(fmt)) ?? new Date(Date.UTC(1, 0, 1)),
    mustToDate: (fmt, s) => {
      const d = parseGoTime(strval(s), strval(fmt));
      if (!d)
        throw new EvalError(`parsing time ${goQuote(strval(s))} as ${goQuote(strval(fmt))}: cannot parse`);
      return d;
    },
    dateModify: (mod, d) => {
      const base = d instanceof Date ? d : now();
      try {
        return new Date(base.getTime() + parseGoDuration(strval(mod)).nanoseconds / 1e6);
      } catch {
        return base;
      }
    },
    duration: (sec) => formatGoDuration(Number(toInt64(sec)) * 1e9),
    durationRound: (v) => {
      const ns =
        v instanceof GoDuration
          ? v.nanoseconds
          : typeof v === "string"
            ? safeDuration(v)
            : Number(toInt64(v));
      const secs = Math.abs(ns) / 1e9;
      const units: [number, string][] = [
        [31536000, "y"],
        [2592000, "mo"],
        [86400, "d"],
        [3600, "h"],
        [60, "m"],
        [1, "s"],
      ];
      for (const [size, unit] of units) if (secs >= size) return `${Math.floor(secs / size)}${unit}`;
      return "0s";
    },
    ago: (d) => formatGoDuration(Math.round((now().getTime() - toDate(d, now).getTime()) / 1000) * 1e9),
  };
  return fns;
}

function kindOf(v: unknown): string {
  const t = goTypeName(v);
  return t.startsWith("[]") ? "slice" : t.startsWith("map") ? "map" : t === "<nil>" ? "invalid" : t;
}

function safeDuration(s: string): number {
  try {
    return parseGoDuration(s).nanoseconds;
  } catch {
    return 0;
  }
}
