/**
 * Argo's DAG `depends` expressions (`A && (B.Failed || !C.Skipped)`): the task names they mention and a
 * syntax check. The controller evaluates them with the expression engine; validation only needs the shape.
 */

export const TASK_RESULTS = [
  "Succeeded",
  "Failed",
  "Errored",
  "Skipped",
  "Omitted",
  "Daemoned",
  "AnySucceeded",
  "AllFailed",
] as const;

export interface DependsReference {
  task: string;
  /** The `.Result` written after the task name, if any. */
  result?: string;
}

export interface ParsedDepends {
  references: DependsReference[];
  /** Set when the expression is not well formed. */
  error?: string;
}

type Token = { kind: "and" | "or" | "not" | "(" | ")" } | { kind: "ref"; ref: DependsReference };

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "&&" || two === "||") {
      tokens.push({ kind: two === "&&" ? "and" : "or" });
      i += 2;
      continue;
    }
    if (c === "!" || c === "(" || c === ")") {
      tokens.push({ kind: c === "!" ? "not" : c });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_]+)?/.exec(text.slice(i));
    if (!m) return `unexpected character '${c}' at position ${i + 1}`;
    const word = m[0];
    if (word === "and" || word === "or" || word === "not") tokens.push({ kind: word });
    else {
      const dot = word.indexOf(".");
      tokens.push({
        kind: "ref",
        ref: dot < 0 ? { task: word } : { task: word.slice(0, dot), result: word.slice(dot + 1) },
      });
    }
    i += word.length;
  }
  return tokens;
}

/** Parses a `depends` expression: task references and, when malformed, why. */
export function parseDepends(text: string): ParsedDepends {
  const tokens = tokenize(text);
  if (typeof tokens === "string") return { references: [], error: tokens };
  const references = tokens.flatMap((t) => (t.kind === "ref" ? [t.ref] : []));
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Error(msg);
  };
  const expr = (): void => {
    term();
    while (tokens[pos]?.kind === "or") {
      pos++;
      term();
    }
  };
  const term = (): void => {
    factor();
    while (tokens[pos]?.kind === "and") {
      pos++;
      factor();
    }
  };
  const factor = (): void => {
    const t = tokens[pos];
    if (!t) return fail("unexpected end of expression");
    if (t.kind === "not") {
      pos++;
      return factor();
    }
    if (t.kind === "(") {
      pos++;
      expr();
      if (tokens[pos]?.kind !== ")") fail("missing ')'");
      pos++;
      return;
    }
    if (t.kind === "ref") {
      pos++;
      return;
    }
    fail(`unexpected '${t.kind === "and" ? "&&" : t.kind === "or" ? "||" : t.kind}'`);
  };
  try {
    if (tokens.length === 0) fail("empty expression");
    expr();
    if (pos < tokens.length) fail("unexpected text after the expression");
  } catch (e) {
    return { references, error: (e as Error).message };
  }
  return { references };
}

/** The task names a `depends` expression mentions, once each, in order. */
export function dependsTaskNames(text: string): string[] {
  return [...new Set(parseDepends(text).references.map((r) => r.task))];
}
