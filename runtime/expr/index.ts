/**
 * Argo's expression and substitution semantics: `{{...}}` tags, govaluate `when`, expr-lang `{{=...}}` and
 * `depends`. See docs/expressions.md.
 */
import type { ExpressionKind, ExpressionSyntaxCheck, ExpressionSyntaxProblem } from "../spec/expressions.js";
import { checkDependsSyntax } from "./depends.js";
import { parseExpression } from "./expression.js";
import { EvalError } from "./exprlang/values.js";
import { checkWhenSyntax } from "./govaluate.js";
import { findTags } from "./template.js";

export { EXPR_CODES } from "./codes.js";
export { AbsentOptionalError, PendingReferenceError } from "./errors.js";
export type { Vars } from "./types.js";
export { exactReference, findTags, substitute, substituteObject } from "./template.js";
export type { SubstituteOptions, Tag } from "./template.js";
export { evaluateWhen } from "./govaluate.js";
export { evaluateCondition, evaluateExpression, formatExpressionResult, toPlainValue } from "./expression.js";
export { GoDuration } from "./exprlang/values.js";
export type { ExpressionOptions } from "./expression.js";
export {
  dependenciesToDepends,
  dependsReferences,
  dependsResults,
  dependsTaskNames,
  evaluateDepends,
} from "./depends.js";
export type { DependencyResult, DependsResultName } from "./depends.js";
export { expandVars } from "./expand.js";

/** One syntax problem: a message and the 1-based column (offset in the expression text) where it was found. */
export type SyntaxProblem = ExpressionSyntaxProblem;

function checkExprSyntax(expression: string): SyntaxProblem[] {
  try {
    parseExpression(expression);
    return [];
  } catch (e) {
    const err = e as { message?: string; position?: { column?: number }; cause?: unknown };
    const reason = err.cause instanceof EvalError ? err.cause.message : (err.message ?? String(e));
    return [{ message: reason, column: err.position?.column ?? 1 }];
  }
}

/**
 * A `when` text as written in a spec still holds its tags: expression tags are checked as expr-lang, and every
 * tag is replaced by a same-length placeholder identifier so columns stay true.
 */
function checkGovaluateSyntax(text: string): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  let placeholder = "";
  let from = 0;
  for (const tag of findTags(text)) {
    placeholder += text.slice(from, tag.start);
    if (tag.expression) {
      for (const p of checkExprSyntax(tag.inner.slice(1)))
        problems.push({ message: p.message, column: p.column + tag.start + 3 });
    }
    const before = text[tag.start - 1] ?? "";
    const after = text[tag.end] ?? "";
    const numeric = /[0-9.]/.test(before) || /[0-9.]/.test(after);
    placeholder += (numeric ? "1" : "x").repeat(tag.end - tag.start);
    from = tag.end;
  }
  placeholder += text.slice(from);
  if (problems.length > 0) return problems;
  return checkWhenSyntax(placeholder);
}

/**
 * Syntax check only, for lint: returns problems, never throws. Each message is the bare reason (no expression
 * text, no location): the column says where, 1-based, counted in the text given. Spec's validation takes it as
 * its `checkExpressionSyntax` option.
 */
export const checkExpressionSyntax: ExpressionSyntaxCheck = (
  expression: string,
  kind: ExpressionKind,
): SyntaxProblem[] => {
  try {
    switch (kind) {
      case "expr":
        return checkExprSyntax(expression);
      case "govaluate":
        return checkGovaluateSyntax(expression);
      case "depends":
        return checkDependsSyntax(expression);
    }
  } catch (e) {
    return [{ message: e instanceof Error ? e.message : String(e), column: 1 }];
  }
};
