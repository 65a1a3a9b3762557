/**
 * Syntax of the expressions written in a manifest, checked by the injected `checkExpressionSyntax`
 * (spec does not import the expression languages).
 */
import { SkiffError } from "../../errors/index.js";
import { SPEC_CODES } from "../codes.js";
import { isPlainObject } from "../merge.js";
import { formatPath } from "../positions.js";
import { findTags } from "../tags.js";
import { type RuleContext, type Dict, type Path } from "./context.js";

/**
 * Syntax of every expression written in the manifest: `{{=...}}` tags anywhere, `when` (govaluate) on steps
 * and tasks, and the expr-lang fields (hook and retry expressions, `fromExpression`, output
 * `valueFrom.expression`, HTTP `successCondition`, data transformations, CronWorkflow `when`).
 */
export function checkExpressions(ctx: RuleContext, raw: Dict): void {
  const checkSyntax = ctx.options.checkExpressionSyntax;
  if (!checkSyntax) return;
  const src = ctx.prepared.source;
  const push = (message: string, path: Path): void => {
    ctx.problems.push(
      new SkiffError(SPEC_CODES["SKF-SPEC-067"], message, {
        position: src.positions.get(path) ?? src.positions.get([]),
        path: formatPath(path),
      }),
    );
  };
  const check = (text: string, kind: "expr" | "govaluate", path: Path): void => {
    const p = checkSyntax(text, kind)[0];
    if (p) push(`${formatPath(path)}: invalid expression '${text}': ${p.message} (column ${p.column})`, path);
  };
  const walk = (value: unknown, path: Path): void => {
    if (typeof value === "string") {
      const key = path[path.length - 1];
      const parent = path[path.length - 2];
      if (key === "when" && path.length > 2 && (path.includes("steps") || path.includes("tasks"))) {
        check(value, "govaluate", path);
        return;
      }
      const exprField =
        key === "expression" ||
        key === "fromExpression" ||
        (key === "successCondition" && parent === "http") ||
        (key === "when" && raw.kind === "CronWorkflow" && path.length === 2);
      if (exprField && !value.includes("{{")) {
        check(value, "expr", path);
        return;
      }
      for (const tag of findTags(value)) {
        if (tag.trim().startsWith("=")) check(tag.trim().slice(1), "expr", path);
      }
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        // depends has its own grammar, checked with the DAG.
        if (k === "depends") continue;
        walk(v, [...path, k]);
      }
    }
  };
  walk(raw.spec, ["spec"]);
}
