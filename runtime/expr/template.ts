import { SkiffError } from "../errors/index.js";
import { EXPR_CODES } from "./codes.js";
import { AbsentOptionalError, PendingReferenceError } from "./errors.js";
import { varEntries } from "./expand.js";
import {
  buildExpressionEnv,
  calledFunctions,
  identifierRoots,
  collectReferences,
  evaluateParsed,
  formatExpressionResult,
  isBuiltinFunction,
  parseExpression,
} from "./expression.js";
import type { ExpressionOptions } from "./expression.js";
import { isNil } from "./exprlang/values.js";
import type { Vars } from "./types.js";

/** One `{{...}}` tag found in a text. */
export interface Tag {
  /** The tag with its braces, e.g. `{{ inputs.parameters.x }}`. */
  raw: string;
  /** The text between the braces, untrimmed. */
  inner: string;
  /** `{{=expr}}`: an expr-lang expression tag (the `=` must follow the braces directly). */
  expression: boolean;
  /** Offset of the first `{` in the text. */
  start: number;
  /** Offset just after the closing `}}`. */
  end: number;
}

/** Options of {@link substitute} and {@link substituteObject}. */
export interface SubstituteOptions extends ExpressionOptions {
  /** Prefixes (e.g. ["steps", "tasks"]) whose missing simple keys throw PendingReferenceError (the caller waits). */
  strictPrefixes?: readonly string[];
  /** Keys matching these regexes may stay unresolved even when strict (e.g. /\.outputs\.artifacts\./). */
  allowUnresolved?: readonly RegExp[];
}

/**
 * All `{{...}}` tags in a text, found the way valyala/fasttemplate does: from each `{{` to the next `}}`, with no
 * nesting (`{{a{{b}}` is one tag whose inner text is `a{{b`). An unterminated `{{` ends the search.
 */
export function findTags(text: string): Tag[] {
  const tags: Tag[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf("{{", from);
    if (start < 0) break;
    const close = text.indexOf("}}", start + 2);
    if (close < 0) break;
    const inner = text.slice(start + 2, close);
    tags.push({
      raw: text.slice(start, close + 2),
      inner,
      expression: inner.startsWith("="),
      start,
      end: close + 2,
    });
    from = close + 2;
  }
  return tags;
}

/**
 * The key of a text that is exactly one simple tag (`"{{steps.p.outputs.parameters.x}}"` -> that key), else
 * undefined. Argo treats such an argument as not supplied when the value is an absent optional (§2.4).
 */
export function exactReference(text: string): string | undefined {
  const tags = findTags(text);
  const tag = tags[0];
  if (tags.length !== 1 || !tag || tag.expression || tag.start !== 0 || tag.end !== text.length)
    return undefined;
  return tag.inner.trim();
}

/** Lookup over flat variables without copying them (substitution runs often over large variable sets). */
class VarIndex {
  private keys: string[] | undefined;
  private readonly envs = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly vars: Vars,
    private readonly options: SubstituteOptions,
  ) {}

  has(key: string): boolean {
    return this.vars instanceof Map ? this.vars.has(key) : Object.hasOwn(this.vars, key);
  }

  get(key: string): unknown {
    return this.vars instanceof Map ? this.vars.get(key) : (this.vars as Record<string, unknown>)[key];
  }

  /** Whether some key continues `key` with a dot (so `key` is a map in the expression environment). */
  isPrefix(key: string): boolean {
    this.keys ??= varEntries(this.vars).map(([k]) => k);
    const prefix = `${key}.`;
    return this.keys.some((k) => k.startsWith(prefix));
  }

  /** The expression environment restricted to the roots an expression names (identical for that expression). */
  expressionEnv(roots: readonly string[]): Record<string, unknown> {
    const id = roots.join("\n");
    let env = this.envs.get(id);
    if (!env) {
      env = buildExpressionEnv(this.vars, this.options, roots);
      this.envs.set(id, env);
    }
    return env;
  }
}

function isStrict(key: string, options: SubstituteOptions): boolean {
  const strict = options.strictPrefixes ?? [];
  if (!strict.some((p) => key === p || key.startsWith(`${p}.`))) return false;
  return !(options.allowUnresolved ?? []).some((re) => re.test(key));
}

/** Escapes a value for insertion into JSON string text. */
function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

function unterminated(text: string, at: number): SkiffError {
  return new SkiffError(
    EXPR_CODES["SKF-EXPR-001"],
    `cannot find end tag "}}" in the template starting from "${text.slice(at, at + 40)}"`,
  );
}

/**
 * Argo's replacement over JSON text (`util/template`): every value is JSON-escaped, simple tags by trimmed key,
 * expression tags unescaped, evaluated and formatted.
 */
function substituteJsonText(json: string, index: VarIndex, options: SubstituteOptions): string {
  let out = "";
  let from = 0;
  for (;;) {
    const start = json.indexOf("{{", from);
    if (start < 0) break;
    const close = json.indexOf("}}", start + 2);
    if (close < 0) throw unterminated(json, start);
    out += json.slice(from, start);
    const inner = json.slice(start + 2, close);
    out += inner.startsWith("=")
      ? replaceExpression(inner, index, options)
      : replaceSimple(inner, index, options);
    from = close + 2;
  }
  return out + json.slice(from);
}

function valueAsString(key: string, value: unknown): string {
  if (value === null) throw new AbsentOptionalError(key);
  if (typeof value !== "string") {
    throw new SkiffError(EXPR_CODES["SKF-EXPR-002"], `failed to resolve {{${key}}} to string`);
  }
  return value;
}

function replaceSimple(tag: string, index: VarIndex, options: SubstituteOptions): string {
  const key = tag.trim();
  if (index.has(key)) return jsonEscape(valueAsString(key, index.get(key)));
  // fasttemplate stops at the first `}}`, so `{{a{{b}}` reaches here as "a{{b": Argo resolves the inner tag.
  const nested = tag.lastIndexOf("{{");
  if (nested > 0) {
    const nestedKey = tag.slice(nested + 2);
    if (index.has(nestedKey)) {
      return `{{${tag.slice(0, nested)}${jsonEscape(valueAsString(nestedKey, index.get(nestedKey)))}`;
    }
  }
  if (isStrict(key, options)) throw new PendingReferenceError(key);
  return `{{${tag}}}`;
}

/** Variables bound late (loop items, retries, exit handlers): while absent, an expression using them waits. */
const lateBindingVariables = [
  "item",
  "retries",
  "lastRetry.exitCode",
  "lastRetry.status",
  "lastRetry.duration",
  "lastRetry.message",
  "workflow.status",
  "workflow.failures",
];

/** A strict reference waits only while its producer (`steps.<name>`) has reported nothing at all. */
function producerMissing(path: string[], index: VarIndex, options: SubstituteOptions): boolean {
  const prefix = (options.strictPrefixes ?? []).find(
    (p) => path.join(".").startsWith(`${p}.`) || path.join(".") === p,
  );
  if (prefix === undefined) return false;
  const producer = path.slice(0, prefix.split(".").length + 1).join(".");
  return !index.has(producer) && !index.isPrefix(producer);
}

/**
 * Argo's expression tag handling (`expressionReplaceStrict`): with every identifier present, errors and a nil
 * result are terminal; with some missing, a strict one makes the caller wait, a late-binding one keeps the tag,
 * and otherwise the expression is tried and kept literally if it fails or yields nil.
 */
function replaceExpression(tag: string, index: VarIndex, options: SubstituteOptions): string {
  let expression: string;
  try {
    expression = JSON.parse(`"${tag.slice(1)}"`) as string;
  } catch (e) {
    throw new SkiffError(EXPR_CODES["SKF-EXPR-008"], `failed to unmarshal JSON expression {{${tag}}}`, {
      cause: e,
    });
  }
  const node = parseExpression(expression);
  const literal = `{{${tag}}}`;
  const missing: string[][] = [];
  const absent: string[] = [];
  for (const ref of collectReferences(node)) {
    const key = ref.path.join(".");
    if (index.has(key)) {
      if (isNil(index.get(key))) absent.push(key);
    } else if (!index.isPrefix(key)) missing.push(ref.path);
  }
  const env = index.expressionEnv(identifierRoots(node));
  for (const name of calledFunctions(node))
    if (!(name in env) && !isBuiltinFunction(name)) missing.push([name]);
  if (missing.length > 0) {
    for (const path of missing) {
      const key = path.join(".");
      if (isStrict(key, options) && producerMissing(path, index, options))
        throw new PendingReferenceError(key);
    }
    const late = lateBindingVariables.some(
      (v) =>
        missing.some((p) => p.join(".") === v || p.join(".").startsWith(`${v}.`)) &&
        !index.has(v) &&
        !index.isPrefix(v),
    );
    if (late) return literal;
    try {
      const result = evaluateParsed(node, expression, env, options);
      return isNil(result) ? literal : jsonEscape(formatExpressionResult(result));
    } catch {
      return literal;
    }
  }
  const result = evaluateParsed(node, expression, env, options);
  if (isNil(result)) {
    const key = absent[0];
    if (key !== undefined) {
      throw new AbsentOptionalError(
        key,
        `expression '${expression}' evaluated to nil: {{${key}}} references an absent optional`,
      );
    }
    throw new SkiffError(
      EXPR_CODES["SKF-EXPR-010"],
      `failed to evaluate expression '${expression}': result is nil`,
    );
  }
  return jsonEscape(formatExpressionResult(result));
}

/**
 * Substitutes a plain string: simple tags by exact key (whitespace-trimmed), expression tags via expr-lang.
 * Missing non-strict keys and expression tags with missing identifiers stay literally.
 * Throws PendingReferenceError for a missing strict key, AbsentOptionalError for an absent value used in text.
 */
export function substitute(text: string, vars: Vars, opts: SubstituteOptions = {}): string {
  if (!text.includes("{{")) return text;
  const result = substituteJsonText(JSON.stringify(text), new VarIndex(vars, opts), opts);
  return JSON.parse(result) as string;
}

/**
 * Argo's substitution on the JSON serialization of a value: values are JSON-escaped, so quotes and newlines in
 * them are safe; the result must still be valid JSON. Returns a new value; the input is not mutated.
 */
export function substituteObject<T>(value: T, vars: Vars, opts: SubstituteOptions = {}): T {
  const json = JSON.stringify(value);
  if (json === undefined) return value;
  const result = substituteJsonText(json, new VarIndex(vars, opts), opts);
  try {
    return JSON.parse(result) as T;
  } catch (e) {
    throw new SkiffError(
      EXPR_CODES["SKF-EXPR-001"],
      `substitution produced invalid JSON: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
}
