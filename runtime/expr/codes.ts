import { defineErrorCodes } from "../errors/index.js";

/** Error codes of the expression engine (`{{...}}` substitution, `when`, `{{=...}}`, `depends`). */
export const EXPR_CODES = defineErrorCodes({
  "SKF-EXPR-001": {
    title: "Unterminated template tag",
    hint: "Every `{{` needs a matching `}}`. Write a literal `{{` outside of a tag some other way (for example in a script file).",
  },
  "SKF-EXPR-002": {
    title: "Template variable is not a string",
    hint: "Simple `{{...}}` tags can only insert string values. Use an expression tag `{{=toJson(...)}}` for structured values.",
  },
  "SKF-EXPR-003": {
    title: "Reference not available yet",
    hint: "The step or task this refers to has not produced the value yet; the caller waits and substitutes again.",
  },
  "SKF-EXPR-004": {
    title: "Reference to an absent optional value",
    hint: "The producer was skipped or omitted and declares no default. Give the output parameter a `valueFrom.default`, give the consumer input a `default`, or use `{{= ... ?? 'fallback'}}`.",
  },
  "SKF-EXPR-005": {
    title: "Invalid `when` expression",
    hint: 'Check the syntax of the condition. Values with spaces, dashes or dots must be quoted: `"{{steps.a.outputs.result}}" == "my-value"`.',
  },
  "SKF-EXPR-006": {
    title: "`when` expression failed to evaluate",
    hint: "Both sides of a comparison must be numbers or both strings; quote values to compare them as strings.",
  },
  "SKF-EXPR-007": {
    title: "`when` expression is not a boolean",
    hint: "A `when` condition must evaluate to true or false, for example `{{steps.a.outputs.result}} == heads`.",
  },
  "SKF-EXPR-008": {
    title: "Expression syntax error",
    hint: "Check the expression against the expr-lang syntax (https://expr-lang.org/docs/language-definition).",
  },
  "SKF-EXPR-009": {
    title: "Expression failed to evaluate",
    hint: "Values injected from parameters are strings: convert them with `asInt`, `asFloat`, `int` or `float` before doing arithmetic.",
  },
  "SKF-EXPR-010": {
    title: "Expression evaluated to nil",
    hint: "The expression produced no value. Use `??` to supply a fallback.",
  },
  "SKF-EXPR-011": {
    title: "Invalid `depends` expression",
    hint: "Use task names combined with `&&`, `||`, `!` and parentheses, optionally with a result: `A.Succeeded`, `B.Failed`, `C.Errored`, `D.Skipped`, `E.Omitted`, `F.Daemoned`, `G.AnySucceeded`, `H.AllFailed`.",
  },
  "SKF-EXPR-012": {
    title: "Unknown variable in expression",
    hint: "Check the variable name. Names with dashes need index syntax: `inputs.parameters['my-param']`.",
  },
});
