/**
 * The value model shared by the expr-lang interpreter, sprig and Argo's helpers, mirroring Go's types so that
 * results format exactly as Argo formats them:
 * nil = `null`/`undefined`, bool = `boolean`, int = `bigint`, float64 = `number`, string = `string`,
 * slice = array, map = plain object, time.Time = `Date`, time.Duration = {@link GoDuration}.
 */

/** A Go `time.Duration` (nanoseconds). */
export class GoDuration {
  constructor(readonly nanoseconds: number) {}

  toString(): string {
    return formatGoDuration(this.nanoseconds);
  }
}

/** Thrown by the interpreter and helpers for a failure inside an expression; the caller adds the code. */
export class EvalError extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = "EvalError";
  }
}

export type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    !(v instanceof GoDuration) &&
    !(v instanceof RegExp)
  );
}

export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

export function isNumber(v: unknown): v is number | bigint {
  return typeof v === "number" || typeof v === "bigint";
}

/** The Go type name of a value, as Go's `%T` prints it (used in error messages). */
export function goTypeName(v: unknown): string {
  if (isNil(v)) return "<nil>";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return "float64";
    case "string":
      return "string";
    case "function":
      return "func(...interface {}) interface {}";
  }
  if (Array.isArray(v)) return "[]interface {}";
  if (v instanceof Date) return "time.Time";
  if (v instanceof GoDuration) return "time.Duration";
  return "map[string]interface {}";
}

/** Wraps an int result to int64 the way Go arithmetic overflows. */
export function int64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function toFloat(v: number | bigint): number {
  return typeof v === "bigint" ? Number(v) : v;
}

/** expr-lang's `==`: numbers compare by value across int/float, otherwise deep equality. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === "bigint" && typeof b === "bigint") return a === b;
    return toFloat(a) === toFloat(b);
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof GoDuration && b instanceof GoDuration) return a.nanoseconds === b.nanoseconds;
  return deepEqual(a, b);
}

/** Go's reflect.DeepEqual over the value model: no numeric coercion between int and float. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof GoDuration) return b instanceof GoDuration && a.nanoseconds === b.nanoseconds;
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Go's `%v` of a float64: strconv's shortest 'g' form, exponent form when exp < -4 or exp >= 6. */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mantissa = "0", expText = "0"] = f.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    const abs = Math.abs(exp);
    return `${mantissa}e${sign}${abs < 10 ? "0" : ""}${abs}`;
  }
  return formatPlain(f);
}

function formatPlain(f: number): string {
  const s = String(f);
  if (!s.includes("e")) return s;
  // JS switched to exponent form (|f| < 1e-6): expand it.
  return f.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
}

/** `fmt.Sprintf("%v", v)` for the value model. */
export function formatGoValue(v: unknown): string {
  if (isNil(v)) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return formatGoFloat(v);
  }
  if (Array.isArray(v)) return `[${v.map(formatGoValue).join(" ")}]`;
  if (v instanceof Date) return formatGoTime(v, "2006-01-02 15:04:05.999999999 -0700 MST");
  if (v instanceof GoDuration) return v.toString();
  if (isDict(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${formatGoValue(v[k])}`).join(" ")}]`;
  }
  return String(v);
}

/** Options for {@link marshalGoJson}. */
export interface MarshalOptions {
  /** `json.MarshalIndent(v, "", indent)` when set. */
  indent?: string;
}

/**
 * Go's `encoding/json` Marshal: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, times as RFC 3339,
 * durations as integer nanoseconds. Throws on NaN/Inf like Go.
 */
export function marshalGoJson(v: unknown, options: MarshalOptions = {}): string {
  return marshal(v, options.indent ?? "", "");
}

function marshal(v: unknown, indent: string, prefix: string): string {
  if (isNil(v)) return "null";
  switch (typeof v) {
    case "string":
      return quoteJsonString(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      if (!Number.isFinite(v)) throw new EvalError(`json: unsupported value: ${formatGoFloat(v)}`);
      return Object.is(v, -0) ? "-0" : String(v);
    case "function":
      throw new EvalError("json: unsupported type: func(...interface {}) interface {}");
  }
  if (v instanceof Date) return quoteJsonString(formatRFC3339Nano(v));
  if (v instanceof GoDuration) return String(v.nanoseconds);
  const inner = prefix + indent;
  const nl = indent ? "\n" : "";
  const sep = indent ? ": " : ":";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[${nl}${v.map((x) => inner + marshal(x, indent, inner)).join(`,${nl}`)}${nl}${indent ? prefix : ""}]`;
  }
  if (isDict(v)) {
    const keys = Object.keys(v).sort();
    if (keys.length === 0) return "{}";
    const parts = keys.map((k) => `${inner}${quoteJsonString(k)}${sep}${marshal(v[k], indent, inner)}`);
    return `{${nl}${parts.join(`,${nl}`)}${nl}${indent ? prefix : ""}}`;
  }
  return quoteJsonString(String(v));
}

/** A JSON string literal the way Go's encoder writes it (HTML-safe). */
export function quoteJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// ---------------------------------------------------------------- durations

const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration: "1h30m", "-1.5s", "300ms". */
export function parseGoDuration(text: string): GoDuration {
  const original = text;
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s.startsWith("-")) sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return new GoDuration(0);
  if (s === "") throw new EvalError(`time: invalid duration "${original}"`);
  let total = 0;
  const re = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === "" || m[1] === ".") {
      if (/^\d*\.?\d*$/.test(s)) throw new EvalError(`time: missing unit in duration "${original}"`);
      throw new EvalError(`time: invalid duration "${original}"`);
    }
    total += Number(m[1]) * (unitNs[m[2] ?? "s"] ?? 1);
    s = s.slice(m[0].length);
  }
  return new GoDuration(sign * Math.round(total));
}

/** Go's Duration.String: "1h30m0s", "1.5s", "300ms", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    let unit: string;
    let div: number;
    if (u < 1e3) {
      unit = "ns";
      div = 1;
    } else if (u < 1e6) {
      unit = "µs";
      div = 1e3;
    } else {
      unit = "ms";
      div = 1e6;
    }
    out = trimFraction(u / div) + unit;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const secs = trimFraction(u / 1e9) + "s";
    out = h > 0 ? `${h}h${m}m${secs}` : m > 0 ? `${m}m${secs}` : secs;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}

// ---------------------------------------------------------------- times

const longMonths = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const layoutTokens = [
  "January",
  "Monday",
  "Jan",
  "Mon",
  "MST",
  "2006",
  "Z07:00",
  "Z0700",
  "Z07",
  "-07:00",
  "-0700",
  "-07",
  "002",
  "01",
  "02",
  "_2",
  "03",
  "04",
  "05",
  "06",
  "15",
  "PM",
  "pm",
  "1",
  "2",
  "3",
  "4",
  "5",
];

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * Formats a time with a Go reference layout (`2006-01-02T15:04:05Z07:00`). Times are rendered in UTC, the zone
 * Skiff runs Argo's controller-side functions in.
 */
export function formatGoTime(d: Date, layout: string): string {
  let out = "";
  let i = 0;
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const hour = d.getUTCHours();
  const ms = d.getUTCMilliseconds();
  while (i < layout.length) {
    const rest = layout.slice(i);
    const frac = /^[.,](0+|9+)/.exec(rest);
    if (frac && !/^\d/.test(layout.slice(i + frac[0].length))) {
      const digits = frac[1] ?? "";
      const full = pad(ms, 3) + "000000";
      let text = full.slice(0, digits.length);
      if (digits.startsWith("9")) {
        text = text.replace(/0+$/, "");
        out += text ? `.${text}` : "";
      } else {
        out += `.${text}`;
      }
      i += frac[0].length;
      continue;
    }
    const tok = layoutTokens.find((t) => rest.startsWith(t));
    if (!tok) {
      out += layout[i];
      i += 1;
      continue;
    }
    i += tok.length;
    switch (tok) {
      case "January":
        out += longMonths[month];
        break;
      case "Jan":
        out += longMonths[month]?.slice(0, 3);
        break;
      case "Monday":
        out += longDays[d.getUTCDay()];
        break;
      case "Mon":
        out += longDays[d.getUTCDay()]?.slice(0, 3);
        break;
      case "MST":
        out += "UTC";
        break;
      case "2006":
        out += pad(year, 4);
        break;
      case "06":
        out += pad(year % 100, 2);
        break;
      case "01":
        out += pad(month + 1, 2);
        break;
      case "1":
        out += String(month + 1);
        break;
      case "02":
        out += pad(day, 2);
        break;
      case "_2":
        out += String(day).padStart(2, " ");
        break;
      case "2":
        out += String(day);
        break;
      case "002":
        out += pad(dayOfYear(d), 3);
        break;
      case "15":
        out += pad(hour, 2);
        break;
      case "03":
        out += pad(hour % 12 === 0 ? 12 : hour % 12, 2);
        break;
      case "3":
        out += String(hour % 12 === 0 ? 12 : hour % 12);
        break;
      case "04":
        out += pad(d.getUTCMinutes(), 2);
        break;
      case "4":
        out += String(d.getUTCMinutes());
        break;
      case "05":
        out += pad(d.getUTCSeconds(), 2);
        break;
      case "5":
        out += String(d.getUTCSeconds());
        break;
      case "PM":
        out += hour >= 12 ? "PM" : "AM";
        break;
      case "pm":
        out += hour >= 12 ? "pm" : "am";
        break;
      case "Z07:00":
      case "Z0700":
      case "Z07":
        out += "Z";
        break;
      case "-07:00":
        out += "+00:00";
        break;
      case "-0700":
        out += "+0000";
        break;
      case "-07":
        out += "+00";
        break;
    }
  }
  return out;
}

export function dayOfYear(d: Date): number {
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.floor((d.getTime() - start) / 86_400_000) + 1;
}

export function formatRFC3339Nano(d: Date): string {
  return formatGoTime(d, "2006-01-02T15:04:05.999999999Z07:00");
}

/**
 * Parses a time with a Go layout. Supports the numeric layout elements and zones; returns undefined when the
 * text does not match (Go's time.Parse is strict, so is this).
 */
export function parseGoTime(text: string, layout: string): Date | undefined {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let millis = 0;
  let offsetMin = 0;
  let pm: boolean | undefined;
  let i = 0;
  let j = 0;
  const num = (min: number, max: number): number | undefined => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(text.slice(j));
    if (!m) return undefined;
    j += m[0].length;
    return Number(m[0]);
  };
  while (i < layout.length) {
    const rest = layout.slice(i);
    if (/^[.,](0+|9+)/.test(rest) && !/^\d/.test(rest.replace(/^[.,](0+|9+)/, ""))) {
      const m = /^[.,](0+|9+)/.exec(rest);
      i += m?.[0].length ?? 0;
      const f = /^[.,](\d+)/.exec(text.slice(j));
      if (f) {
        millis = Math.floor(Number(`0.${f[1]}`) * 1000);
        j += f[0].length;
      } else if (m?.[1]?.startsWith("0")) return undefined;
      continue;
    }
    const tok = layoutTokens.find((t) => rest.startsWith(t));
    if (!tok) {
      if (text[j] !== layout[i]) return undefined;
      i += 1;
      j += 1;
      continue;
    }
    i += tok.length;
    let v: number | undefined;
    switch (tok) {
      case "2006":
        v = num(4, 4);
        if (v === undefined) return undefined;
        year = v;
        break;
      case "06":
        v = num(2, 2);
        if (v === undefined) return undefined;
        year = v >= 69 ? 1900 + v : 2000 + v;
        break;
      case "01":
      case "1":
        v = num(tok === "01" ? 2 : 1, 2);
        if (v === undefined) return undefined;
        month = v;
        break;
      case "Jan":
      case "January": {
        const names = tok === "Jan" ? longMonths.map((n) => n.slice(0, 3)) : longMonths;
        const idx = names.findIndex((n) => text.slice(j).startsWith(n));
        if (idx < 0) return undefined;
        month = idx + 1;
        j += names[idx]?.length ?? 0;
        break;
      }
      case "Mon":
      case "Monday": {
        const names = tok === "Mon" ? longDays.map((n) => n.slice(0, 3)) : longDays;
        const idx = names.findIndex((n) => text.slice(j).startsWith(n));
        if (idx < 0) return undefined;
        j += names[idx]?.length ?? 0;
        break;
      }
      case "02":
      case "2":
      case "_2":
        if (tok === "_2" && text[j] === " ") j += 1;
        v = num(tok === "02" ? 2 : 1, 2);
        if (v === undefined) return undefined;
        day = v;
        break;
      case "002":
        v = num(3, 3);
        if (v === undefined) return undefined;
        day = v;
        break;
      case "15":
        v = num(2, 2);
        if (v === undefined) return undefined;
        hour = v;
        break;
      case "03":
      case "3":
        v = num(tok === "03" ? 2 : 1, 2);
        if (v === undefined || v > 12) return undefined;
        hour = v;
        break;
      case "04":
      case "4":
        v = num(tok === "04" ? 2 : 1, 2);
        if (v === undefined) return undefined;
        minute = v;
        break;
      case "05":
      case "5":
        v = num(tok === "05" ? 2 : 1, 2);
        if (v === undefined) return undefined;
        second = v;
        if (/^[.,]\d/.test(text.slice(j)) && !/^[.,]\d/.test(layout.slice(i))) {
          const f = /^[.,](\d+)/.exec(text.slice(j));
          millis = Math.floor(Number(`0.${f?.[1] ?? "0"}`) * 1000);
          j += f?.[0].length ?? 0;
        }
        break;
      case "PM":
      case "pm": {
        const t = text.slice(j, j + 2).toUpperCase();
        if (t !== "AM" && t !== "PM") return undefined;
        pm = t === "PM";
        j += 2;
        break;
      }
      case "MST": {
        const m = /^[A-Z]{3,5}/.exec(text.slice(j));
        if (!m) return undefined;
        j += m[0].length;
        break;
      }
      case "Z07:00":
      case "Z0700":
      case "Z07":
      case "-07:00":
      case "-0700":
      case "-07": {
        if (tok.startsWith("Z") && text[j] === "Z") {
          j += 1;
          break;
        }
        const pattern = tok.endsWith(":00")
          ? /^([+-])(\d{2}):(\d{2})/
          : tok.endsWith("00")
            ? /^([+-])(\d{2})(\d{2})/
            : /^([+-])(\d{2})/;
        const m = pattern.exec(text.slice(j));
        if (!m) return undefined;
        offsetMin = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
        j += m[0].length;
        break;
      }
    }
  }
  if (j !== text.length) return undefined;
  if (pm !== undefined) {
    if (hour === 12) hour = pm ? 12 : 0;
    else if (pm) hour += 12;
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMin * 60_000);
  if (year < 100)
    d.setUTCFullYear(d.getUTCFullYear() - (new Date(Date.UTC(year, 0, 1)).getUTCFullYear() - year));
  return d;
}

/** RFC 3339 with optional fractional seconds, as Go's time.RFC3339 parse accepts. */
export function parseRFC3339(text: string): Date | undefined {
  return parseGoTime(text, "2006-01-02T15:04:05Z07:00");
}
