import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";
import { compileWith, prepareWorkflow, type CompileOptions, type PreparedWorkflow } from "./compile.js";
import type { CompiledWorkflow } from "./compiled.js";
import type { ExpressionSyntaxCheck } from "./expressions.js";
import type { Library } from "./library.js";
import type { LoadedManifest } from "./load.js";
import { checkWorkflow } from "./rules/index.js";

export interface ValidateOptions {
  /**
   * Checks `when`, `depends` and expr-lang expressions (pass `checkExpressionSyntax` from runtime/expr);
   * without it their syntax is not checked.
   */
  checkExpressionSyntax?: ExpressionSyntaxCheck;
}

/** Argo's lint: every problem of every manifest, never throws for bad input. */
export function validate(
  manifest: LoadedManifest,
  library: Library,
  options: ValidateOptions = {},
): SkiffError[] {
  const kind = manifest.object.kind;
  if (kind === "ConfigMap" || kind === "Secret") return [];
  try {
    const prepared = prepareWorkflow(manifest, library);
    return [
      ...prepared.problems,
      ...checkWorkflow(prepared, { submit: false, checkExpressionSyntax: options.checkExpressionSyntax }),
    ];
  } catch (e) {
    if (e instanceof SkiffError) return [e];
    return [
      new SkiffError(SPEC_CODES["SKF-SPEC-070"], `cannot validate: ${(e as Error).message}`, {
        position: manifest.positions.get([]) ?? { file: manifest.file },
      }),
    ];
  }
}

/**
 * Validates and compiles one Workflow (or a WorkflowTemplate/CronWorkflow submitted as a Workflow) into the
 * CompiledWorkflow the controller runs. Throws SkiffAggregateError with every problem.
 */
export function compile(
  manifest: LoadedManifest,
  library: Library,
  options: CompileOptions = {},
): CompiledWorkflow {
  const check = (p: PreparedWorkflow) =>
    checkWorkflow(p, { submit: true, checkExpressionSyntax: options.checkExpressionSyntax });
  return compileWith(check, manifest, library, options);
}
