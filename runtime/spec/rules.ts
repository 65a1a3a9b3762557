import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";
import type { PreparedWorkflow } from "./compile.js";
import type { TemplateScope } from "./compiled.js";
import { formatPath } from "./positions.js";

export interface CheckOptions {
  /** Checking for a run (compile) rather than lint: the entrypoint is always required. */
  submit: boolean;
}

type Path = (string | number)[];

/** Argo's workflow validation rules (`workflow/validate/validate.go`) over a prepared workflow. */
export function checkWorkflow(prepared: PreparedWorkflow, options: CheckOptions): SkiffError[] {
  const { compiled } = prepared;
  const problems: SkiffError[] = [];
  const report = (code: string, message: string, path: Path, scope?: TemplateScope): void => {
    problems.push(
      new SkiffError(code, message, {
        position: compiled.positionOf(path, scope) ?? compiled.positionOf(path.slice(0, -1), scope),
        path: formatPath(path),
      }),
    );
  };
  const spec = compiled.workflow.spec;
  const entry = spec.entrypoint;
  const entryRequired = options.submit || !prepared.isTemplateValidation;
  if (entry === undefined || entry === "") {
    if (entryRequired) report(SPEC_CODES["SKF-SPEC-030"], "spec.entrypoint is required", ["spec"]);
  } else if (!compiled.getTemplate(entry, compiled.rootScope)) {
    report(SPEC_CODES["SKF-SPEC-031"], `spec.entrypoint template ${entry} not found`, ["spec", "entrypoint"]);
  }
  return problems;
}
