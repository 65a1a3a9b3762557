import { SkiffError } from "../errors/index.js";
import { EXPR_CODES } from "./codes.js";
import { compileRegex, regexMatch } from "./exprlang/regex.js";
import { EvalError, deepEqual, formatGoValue, parseGoTime } from "./exprlang/values.js";

/**
 * A faithful re-implementation of Knetic/govaluate (commit 7625b7f8) as Argo uses it for `when`: identifiers
 * are turned into string literals, the expression is evaluated without parameters and must yield a bool.
 */

type Kind =
  | "PREFIX"
  | "NUMERIC"
  | "BOOLEAN"
  | "STRING"
  | "PATTERN"
  | "TIME"
  | "VARIABLE"
  | "FUNCTION"
  | "SEPARATOR"
  | "ACCESSOR"
  | "COMPARATOR"
  | "LOGICALOP"
  | "MODIFIER"
  | "CLAUSE"
  | "CLAUSE_CLOSE"
  | "TERNARY";

interface GToken {
  kind: Kind;
  value: unknown;
  /** 0-based offset of the token. */
  pos: number;
}

const valueNext: Kind[] = ["MODIFIER", "COMPARATOR", "LOGICALOP", "CLAUSE_CLOSE", "TERNARY", "SEPARATOR"];
/** What may start an operand: the start of an expression, and after an opening parenthesis. */
const operandStart: Kind[] = [
  "PREFIX",
  "NUMERIC",
  "BOOLEAN",
  "VARIABLE",
  "PATTERN",
  "FUNCTION",
  "ACCESSOR",
  "STRING",
  "TIME",
  "CLAUSE",
];

const lexerStates: Record<Kind | "UNKNOWN", { isEOF: boolean; next: Kind[] }> = {
  UNKNOWN: { isEOF: false, next: operandStart },
  CLAUSE: { isEOF: false, next: [...operandStart, "CLAUSE_CLOSE"] },
  CLAUSE_CLOSE: {
    isEOF: true,
    next: [
      "COMPARATOR",
      "MODIFIER",
      "NUMERIC",
      "BOOLEAN",
      "VARIABLE",
      "STRING",
      "PATTERN",
      "TIME",
      "CLAUSE",
      "CLAUSE_CLOSE",
      "LOGICALOP",
      "TERNARY",
      "SEPARATOR",
    ],
  },
  NUMERIC: { isEOF: true, next: valueNext },
  BOOLEAN: { isEOF: true, next: valueNext },
  STRING: { isEOF: true, next: valueNext },
  TIME: { isEOF: true, next: valueNext },
  PATTERN: { isEOF: true, next: valueNext },
  VARIABLE: { isEOF: true, next: valueNext },
  MODIFIER: {
    isEOF: false,
    next: [
      "PREFIX",
      "NUMERIC",
      "VARIABLE",
      "FUNCTION",
      "ACCESSOR",
      "STRING",
      "BOOLEAN",
      "CLAUSE",
      "CLAUSE_CLOSE",
    ],
  },
  COMPARATOR: {
    isEOF: false,
    next: [
      "PREFIX",
      "NUMERIC",
      "BOOLEAN",
      "VARIABLE",
      "FUNCTION",
      "ACCESSOR",
      "STRING",
      "TIME",
      "CLAUSE",
      "CLAUSE_CLOSE",
      "PATTERN",
    ],
  },
  LOGICALOP: {
    isEOF: false,
    next: [
      "PREFIX",
      "NUMERIC",
      "BOOLEAN",
      "VARIABLE",
      "FUNCTION",
      "ACCESSOR",
      "STRING",
      "TIME",
      "CLAUSE",
      "CLAUSE_CLOSE",
    ],
  },
  PREFIX: {
    isEOF: false,
    next: ["NUMERIC", "BOOLEAN", "VARIABLE", "FUNCTION", "ACCESSOR", "CLAUSE", "CLAUSE_CLOSE"],
  },
  TERNARY: {
    isEOF: false,
    next: [
      "PREFIX",
      "NUMERIC",
      "BOOLEAN",
      "STRING",
      "TIME",
      "VARIABLE",
      "FUNCTION",
      "ACCESSOR",
      "CLAUSE",
      "SEPARATOR",
    ],
  },
  FUNCTION: { isEOF: false, next: ["CLAUSE"] },
  ACCESSOR: {
    isEOF: true,
    next: ["CLAUSE", "MODIFIER", "COMPARATOR", "LOGICALOP", "CLAUSE_CLOSE", "TERNARY", "SEPARATOR"],
  },
  SEPARATOR: {
    isEOF: false,
    next: ["PREFIX", "NUMERIC", "BOOLEAN", "STRING", "TIME", "VARIABLE", "FUNCTION", "ACCESSOR", "CLAUSE"],
  },
};

const prefixSymbols = new Set(["-", "!", "~"]);
const modifierSymbols = new Set(["+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"]);
const logicalSymbols = new Set(["&&", "||"]);
const comparatorSymbols = new Set(["==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"]);
const ternarySymbols = new Set(["?", ":", "??"]);

const isLetter = (c: string): boolean => /\p{L}/u.test(c);
const isDigit = (c: string): boolean => /\p{Nd}/u.test(c);
const isSpace = (c: string): boolean => /\s/u.test(c);
const isQuote = (c: string): boolean => c === "'" || c === '"';
const isNumeric = (c: string): boolean => isDigit(c) || c === ".";
const isVariableName = (c: string): boolean => isLetter(c) || isDigit(c) || c === "_" || c === ".";
const isNotAlphanumeric = (c: string): boolean =>
  !(isDigit(c) || isLetter(c) || c === "(" || c === ")" || c === "[" || c === "]" || isQuote(c));

/** govaluate's date literal layouts (`tryParseTime`), tried in order, in the local zone (UTC here). */
const timeLayouts = [
  "Mon Jan _2 15:04:05 2006",
  "Mon Jan _2 15:04:05 MST 2006",
  "Mon Jan 02 15:04:05 -0700 2006",
  "3:04PM",
  "2006-01-02T15:04:05Z07:00",
  "2006-01-02T15:04:05.999999999Z07:00",
  "2006-01-02",
  "2006-01-02 15:04",
  "2006-01-02 15:04:05",
  "2006-01-02 15:04:05-07:00",
  "2006-01-02T15Z0700",
  "2006-01-02T15:04Z0700",
  "2006-01-02T15:04:05Z0700",
  "2006-01-02T15:04:05.999999999Z0700",
];

function tryParseTime(text: string): Date | undefined {
  for (const layout of timeLayouts) {
    const d = parseGoTime(text, layout);
    if (d) return d;
  }
  return undefined;
}

class Stream {
  pos = 0;
  constructor(readonly chars: string[]) {}
  canRead(): boolean {
    return this.pos < this.chars.length;
  }
  read(): string {
    return this.chars[this.pos++] ?? "";
  }
  rewind(n: number): void {
    this.pos -= n;
  }
}

/** govaluate's readUntilFalse: backslash escapes anything; optionally stops at whitespace. */
function readUntilFalse(
  s: Stream,
  includeWhitespace: boolean,
  breakWhitespace: boolean,
  condition: (c: string) => boolean,
): [string, boolean] {
  let buf = "";
  while (s.canRead()) {
    let c = s.read();
    if (c === "\\") {
      c = s.read();
      buf += c;
      continue;
    }
    if (isSpace(c)) {
      if (breakWhitespace && buf.length > 0) return [buf, true];
      if (!includeWhitespace) continue;
    }
    if (condition(c)) buf += c;
    else {
      s.rewind(1);
      return [buf, true];
    }
  }
  return [buf, false];
}

function readTokenUntilFalse(s: Stream, condition: (c: string) => boolean): string {
  s.rewind(1);
  return readUntilFalse(s, false, true, condition)[0];
}

function lexError(message: string, pos: number): EvalError {
  return new EvalError(message, pos);
}

function tokenize(expression: string): GToken[] {
  const chars = [...expression];
  const s = new Stream(chars);
  const tokens: GToken[] = [];
  let state: Kind | "UNKNOWN" = "UNKNOWN";
  while (s.canRead()) {
    let c = s.read();
    if (isSpace(c)) continue;
    const pos = s.pos - 1;
    let kind: Kind | undefined;
    let value: unknown;
    if (isNumeric(c)) {
      if (c === "0" && s.canRead()) {
        c = s.read();
        if (c === "x" && s.canRead()) {
          const [hex] = readUntilFalse(s, false, true, (x) => /[0-9a-fA-F]/.test(x));
          const n = Number.parseInt(hex, 16);
          if (!/^[0-9a-fA-F]+$/.test(hex))
            throw lexError(`Unable to parse hex value '${hex}' to uint64\n`, pos);
          tokens.push({ kind: "NUMERIC", value: n, pos });
          state = "NUMERIC";
          continue;
        }
        s.rewind(1);
      }
      const text = readTokenUntilFalse(s, isNumeric);
      if (!/^(\d+\.?\d*|\.\d+)$/.test(text))
        throw lexError(`Unable to parse numeric value '${text}' to float64\n`, pos);
      kind = "NUMERIC";
      value = Number(text);
    } else if (c === ",") {
      kind = "SEPARATOR";
      value = ",";
    } else if (c === "[") {
      const [name, completed] = readUntilFalse(s, true, false, (x) => x !== "]");
      if (!completed) throw lexError("Unclosed parameter bracket", pos);
      s.rewind(-1);
      kind = "VARIABLE";
      value = name;
    } else if (isLetter(c)) {
      const text = readTokenUntilFalse(s, isVariableName);
      kind = "VARIABLE";
      value = text;
      if (text === "true" || text === "false") {
        kind = "BOOLEAN";
        value = text === "true";
      } else if (text === "in" || text === "IN") {
        kind = "COMPARATOR";
        value = "in";
      }
      if (text.indexOf(".") > 0) {
        if (text.endsWith(".")) throw lexError(`Hanging accessor on token '${text}'`, pos);
        const parts = text.split(".");
        for (const part of parts.slice(1)) {
          const first = [...part][0] ?? "";
          if (first.toUpperCase() !== first)
            throw lexError(`Unable to access unexported field '${part}' in token '${text}'`, pos);
        }
        kind = "ACCESSOR";
        value = parts;
      }
    } else if (isQuote(c)) {
      const [text, completed] = readUntilFalse(s, true, false, (x) => !isQuote(x));
      if (!completed) throw lexError("Unclosed string literal", pos);
      s.rewind(-1);
      const time = tryParseTime(text);
      if (time) {
        kind = "TIME";
        value = time;
      } else {
        kind = "STRING";
        value = text;
      }
    } else if (c === "(") {
      kind = "CLAUSE";
      value = "(";
    } else if (c === ")") {
      kind = "CLAUSE_CLOSE";
      value = ")";
    } else {
      const text = readTokenUntilFalse(s, isNotAlphanumeric);
      value = text;
      if (lexerStates[state].next.includes("PREFIX") && prefixSymbols.has(text)) kind = "PREFIX";
      else if (modifierSymbols.has(text)) kind = "MODIFIER";
      else if (logicalSymbols.has(text)) kind = "LOGICALOP";
      else if (comparatorSymbols.has(text)) kind = "COMPARATOR";
      else if (ternarySymbols.has(text)) kind = "TERNARY";
      else throw lexError(`Invalid token: '${text}'`, pos);
    }
    tokens.push({ kind, value, pos });
    state = kind;
  }
  return tokens;
}

function checkBalance(tokens: GToken[]): void {
  let parens = 0;
  for (const t of tokens) {
    if (t.kind === "CLAUSE") parens++;
    if (t.kind === "CLAUSE_CLOSE") parens--;
  }
  if (parens !== 0) throw new EvalError("Unbalanced parenthesis", 0);
}

function tokenText(t: GToken | undefined): string {
  if (!t) return "<nil>";
  if (Array.isArray(t.value)) return `[${t.value.join(" ")}]`;
  return formatGoValue(t.value);
}

function checkSyntax(tokens: GToken[], expressionLength: number): void {
  let state: Kind | "UNKNOWN" = "UNKNOWN";
  let last: GToken | undefined;
  for (const t of tokens) {
    if (!lexerStates[state].next.includes(t.kind)) {
      if (last?.kind === "VARIABLE" && t.kind === "CLAUSE")
        throw new EvalError(`Undefined function ${String(last.value)}`, last.pos);
      throw new EvalError(
        `Cannot transition token types from ${state} [${tokenText(last)}] to ${t.kind} [${tokenText(t)}]`,
        t.pos,
      );
    }
    state = t.kind;
    last = t;
  }
  if (!lexerStates[state].isEOF) throw new EvalError("Unexpected end of expression", expressionLength);
}

// ---------------------------------------------------------------- planning

type Stage =
  | { t: "literal"; value: unknown; pos: number }
  | { t: "accessor"; parts: string[]; pos: number }
  | { t: "op"; symbol: string; kind: Kind; left?: Stage; right?: Stage; pos: number }
  | { t: "noop"; inner: Stage | undefined; pos: number };

const levels: { kinds: Kind[]; symbols: Set<string> }[] = [
  { kinds: ["SEPARATOR"], symbols: new Set([","]) },
  { kinds: ["TERNARY"], symbols: ternarySymbols },
  { kinds: ["LOGICALOP"], symbols: new Set(["||"]) },
  { kinds: ["LOGICALOP"], symbols: new Set(["&&"]) },
  { kinds: ["COMPARATOR"], symbols: comparatorSymbols },
  { kinds: ["MODIFIER"], symbols: new Set(["&", "|", "^"]) },
  { kinds: ["MODIFIER"], symbols: new Set(["<<", ">>"]) },
  { kinds: ["MODIFIER"], symbols: new Set(["+", "-"]) },
  { kinds: ["MODIFIER"], symbols: new Set(["*", "/", "%"]) },
  { kinds: ["MODIFIER"], symbols: new Set(["**"]) },
];

class Planner {
  private i = 0;
  constructor(private readonly tokens: GToken[]) {}

  plan(): Stage | undefined {
    if (this.tokens.length === 0) return undefined;
    return this.level(0);
  }

  private peek(): GToken | undefined {
    return this.tokens[this.i];
  }

  /** Binary operators of one precedence level, left-associative (govaluate reorders its right-leaning plan). */
  private level(n: number): Stage | undefined {
    if (n >= levels.length) return this.value();
    const lvl = levels[n];
    let left = this.level(n + 1);
    for (;;) {
      const t = this.peek();
      if (
        !lvl ||
        !t ||
        !lvl.kinds.includes(t.kind) ||
        typeof t.value !== "string" ||
        !lvl.symbols.has(t.value)
      )
        return left;
      this.i++;
      const right = this.level(n + 1);
      left = {
        t: "op",
        symbol: t.value,
        kind: t.kind,
        ...(left ? { left } : {}),
        ...(right ? { right } : {}),
        pos: t.pos,
      };
    }
  }

  private value(): Stage | undefined {
    const t = this.tokens[this.i++];
    if (!t) return undefined;
    switch (t.kind) {
      case "CLAUSE": {
        const inner = this.level(0);
        this.i++;
        return { t: "noop", inner, pos: t.pos };
      }
      case "CLAUSE_CLOSE":
        this.i--;
        return undefined;
      case "PREFIX": {
        const right = this.value();
        return { t: "op", symbol: String(t.value), kind: "PREFIX", ...(right ? { right } : {}), pos: t.pos };
      }
      case "NUMERIC":
      case "STRING":
      case "PATTERN":
      case "BOOLEAN":
        return { t: "literal", value: t.value, pos: t.pos };
      case "TIME":
        return { t: "literal", value: Math.floor((t.value as Date).getTime() / 1000), pos: t.pos };
      case "ACCESSOR":
        return { t: "accessor", parts: t.value as string[], pos: t.pos };
      case "VARIABLE":
        return { t: "accessor", parts: [String(t.value)], pos: t.pos };
      default:
        throw new EvalError(`Unable to plan token kind: '${t.kind}', value: '${tokenText(t)}'`, t.pos);
    }
  }
}

// ---------------------------------------------------------------- evaluation

const isFloat = (v: unknown): v is number => typeof v === "number";
const isStr = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";

const formats = {
  prefix: "Value '%v' cannot be used with the prefix '%s'",
  modifier: "Value '%v' cannot be used with the modifier '%s', it is not a number",
  comparator: "Value '%v' cannot be used with the comparator '%s', it is not a number",
  logical: "Value '%v' cannot be used with the logical operator '%s', it is not a bool",
  ternary: "Value '%v' cannot be used with the ternary operator '%s', it is not a bool",
};

function typeError(format: string, value: unknown, symbol: string, pos: number): EvalError {
  return new EvalError(
    format.replace("%v", formatGoValue(value)).replace("%s", symbol === "==" ? "=" : symbol),
    pos,
  );
}

function formatFor(kind: Kind): string {
  switch (kind) {
    case "PREFIX":
      return formats.prefix;
    case "COMPARATOR":
      return formats.comparator;
    case "LOGICALOP":
      return formats.logical;
    case "TERNARY":
      return formats.ternary;
    default:
      return formats.modifier;
  }
}

const shortCircuit = Symbol("shortCircuit");

function evalStage(stage: Stage | undefined): unknown {
  if (!stage) return null;
  switch (stage.t) {
    case "literal":
      return stage.value;
    case "noop":
      return evalStage(stage.inner);
    case "accessor":
      throw new EvalError(`No parameter '${stage.parts[0] ?? ""}' found.`, stage.pos);
    case "op":
      break;
  }
  const { symbol, kind, pos } = stage;
  const left = stage.left ? evalStage(stage.left) : null;
  let right: unknown = null;
  if (kind !== "PREFIX") {
    if (symbol === "&&" && left === false) return false;
    if (symbol === "||" && left === true) return true;
    if (symbol === "??" && left !== null) return left;
    if (symbol === "?" && left === false) right = shortCircuit;
    if (symbol === ":" && left !== null) right = shortCircuit;
  }
  if (right !== shortCircuit) right = stage.right ? evalStage(stage.right) : null;
  const format = formatFor(kind);
  const checkLeft = (ok: boolean): void => {
    if (!ok) throw typeError(format, left, symbol, pos);
  };
  const checkRight = (ok: boolean): void => {
    if (!ok) throw typeError(format, right, symbol, pos);
  };
  if (kind === "PREFIX") {
    switch (symbol) {
      case "-":
        checkRight(isFloat(right));
        return -(right as number);
      case "!":
        checkRight(isBool(right));
        return !(right as boolean);
      case "~":
        checkRight(isFloat(right));
        return Number(~BigInt.asIntN(64, BigInt(Math.trunc(right as number))));
    }
  }
  switch (symbol) {
    case ",":
      return Array.isArray(left) ? [...(left as unknown[]), right] : [left, right];
    case "?":
      checkLeft(isBool(left));
      return left === true ? right : null;
    case ":":
      return left !== null ? left : right;
    case "??":
      return left !== null ? left : right;
    case "||":
    case "&&":
      checkLeft(isBool(left));
      checkRight(isBool(right));
      return symbol === "&&"
        ? (left as boolean) && (right as boolean)
        : (left as boolean) || (right as boolean);
    case "==":
      return deepEqual(left, right);
    case "!=":
      return !deepEqual(left, right);
    case ">":
    case "<":
    case ">=":
    case "<=": {
      if (!((isFloat(left) && isFloat(right)) || (isStr(left) && isStr(right))))
        throw typeError(format, left, symbol, pos);
      const a = left as number | string;
      const b = right as number | string;
      return symbol === ">" ? a > b : symbol === "<" ? a < b : symbol === ">=" ? a >= b : a <= b;
    }
    case "=~":
    case "!~": {
      checkLeft(isStr(left));
      checkRight(isStr(right));
      let matched: boolean;
      try {
        matched = regexMatch(right as string, left as string);
      } catch (e) {
        throw new EvalError(
          `Unable to compile regexp pattern '${String(right)}': ${e instanceof Error ? e.message : String(e)}`,
          pos,
        );
      }
      return symbol === "=~" ? matched : !matched;
    }
    case "in":
      checkRight(Array.isArray(right));
      return (right as unknown[]).some((v) => v === left);
    case "+":
      if (isFloat(left) && isFloat(right)) return left + right;
      if (!isStr(left) && !isStr(right)) throw typeError(format, left, symbol, pos);
      return formatGoValue(left) + formatGoValue(right);
  }
  checkLeft(isFloat(left));
  checkRight(isFloat(right));
  const a = left as number;
  const b = right as number;
  const int = (x: number): bigint => BigInt.asIntN(64, BigInt(Math.trunc(x)));
  switch (symbol) {
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "%":
      return a % b;
    case "**":
      return Math.pow(a, b);
    case "&":
      return Number(int(a) & int(b));
    case "|":
      return Number(int(a) | int(b));
    case "^":
      return Number(int(a) ^ int(b));
    case "<<":
      return Number(BigInt.asIntN(64, int(a) << BigInt.asUintN(64, int(b))));
    case ">>":
      return Number(int(a) >> BigInt.asUintN(64, int(b)));
  }
  throw new EvalError(`unknown operator ${symbol}`, pos);
}

/** govaluate's optimizeTokens: a constant pattern after `=~`/`!~` is compiled up front, so a bad one fails parsing. */
function precompilePatterns(tokens: GToken[]): void {
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (t.kind !== "COMPARATOR" || (t.value !== "=~" && t.value !== "!~") || next?.kind !== "STRING") return;
    try {
      compileRegex(String(next.value));
    } catch (e) {
      throw new EvalError(e instanceof Error ? e.message : String(e), next.pos);
    }
  });
}

/** Tokenizes and checks a `when` text the way Argo does (identifiers become strings). Throws EvalError. */
function compileWhen(expression: string): Stage | undefined {
  let tokens: GToken[];
  try {
    tokens = tokenize(expression);
    checkBalance(tokens);
    checkSyntax(tokens, expression.length);
    precompilePatterns(tokens);
  } catch (e) {
    if (e instanceof EvalError) throw new WhenError("invalid", e);
    throw e;
  }
  const converted = tokens.map((t): GToken => (t.kind === "VARIABLE" ? { ...t, kind: "STRING" } : t));
  try {
    checkSyntax(converted, expression.length);
    precompilePatterns(converted);
    return new Planner(converted).plan();
  } catch (e) {
    if (e instanceof EvalError) throw new WhenError("parse", e);
    throw e;
  }
}

class WhenError extends Error {
  constructor(
    readonly stage: "invalid" | "parse" | "evaluate",
    readonly inner: EvalError,
  ) {
    super(inner.message);
  }
}

function whenError(expression: string, e: WhenError): SkiffError {
  const column = (e.inner.offset ?? 0) + 1;
  const position = { column };
  if (e.stage === "invalid") {
    const invalidToken = e.inner.message.includes("Invalid token");
    return new SkiffError(
      EXPR_CODES["SKF-EXPR-005"],
      `Invalid 'when' expression '${expression}': ${e.inner.message}${invalidToken ? ' (hint: try wrapping the affected expression in quotes ("))' : ""}`,
      { position, cause: e.inner },
    );
  }
  if (e.stage === "parse") {
    return new SkiffError(
      EXPR_CODES["SKF-EXPR-005"],
      `Failed to parse 'when' expression '${expression}': ${e.inner.message}`,
      {
        position,
        cause: e.inner,
      },
    );
  }
  return new SkiffError(
    EXPR_CODES["SKF-EXPR-006"],
    `Failed to evaluate 'when' expression '${expression}': ${e.inner.message}`,
    {
      position,
      cause: e.inner,
    },
  );
}

/**
 * govaluate semantics for `when` (expects the already-substituted text). Bare identifiers are strings, numbers
 * are float64, quoted dates are unix timestamps. Throws SkiffError on parse/type errors or a non-boolean result
 * ("Expected boolean evaluation for '…'").
 */
export function evaluateWhen(expression: string): boolean {
  if (expression === "") return true;
  let result: unknown;
  try {
    const stage = compileWhen(expression);
    try {
      result = evalStage(stage);
    } catch (e) {
      if (e instanceof EvalError) throw new WhenError("evaluate", e);
      throw e;
    }
  } catch (e) {
    if (e instanceof WhenError) throw whenError(expression, e);
    throw e;
  }
  if (typeof result !== "boolean") {
    throw new SkiffError(
      EXPR_CODES["SKF-EXPR-007"],
      `Expected boolean evaluation for '${expression}', got ${formatGoValue(result)}`,
    );
  }
  return result;
}

/** Syntax problems of a `when` text (no evaluation); empty when it would compile. */
export function checkWhenSyntax(expression: string): { message: string; column: number }[] {
  try {
    compileWhen(expression);
    return [];
  } catch (e) {
    if (e instanceof WhenError) {
      const hint = e.inner.message.includes("Invalid token")
        ? ' (hint: try wrapping the affected expression in quotes ("))'
        : "";
      return [{ message: e.inner.message.trimEnd() + hint, column: (e.inner.offset ?? 0) + 1 }];
    }
    throw e;
  }
}
