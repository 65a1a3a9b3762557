/** The expression languages a manifest holds: expr-lang (`{{=...}}` and expression fields), govaluate (`when`), `depends`. */
export type ExpressionKind = "expr" | "govaluate" | "depends";

/** One syntax problem: the bare reason and the 1-based column (offset in the expression text) where it was found. */
export interface ExpressionSyntaxProblem {
  message: string;
  column: number;
}

/**
 * Checks the syntax of one expression and returns its problems, never throws. Validation takes it as an option
 * because the expression languages live in `runtime/expr`, which builds on spec: callers pass
 * `checkExpressionSyntax` from `runtime/expr`. See docs/decisions/0007-spec-expression-check.md.
 */
export type ExpressionSyntaxCheck = (expression: string, kind: ExpressionKind) => ExpressionSyntaxProblem[];
