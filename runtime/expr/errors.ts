import { SkiffError } from "../errors/index.js";
import type { SkiffErrorOptions } from "../errors/index.js";
import { EXPR_CODES } from "./codes.js";

/**
 * Thrown when a strict reference (`steps.*` / `tasks.*` by default) is not available yet: the producer has not
 * reported its outputs. The caller should wait and substitute again; this is not a failure.
 */
export class PendingReferenceError extends SkiffError {
  /** The flat variable key that is missing, e.g. `steps.a.outputs.result`. */
  readonly key: string;

  constructor(key: string, options: SkiffErrorOptions = {}) {
    super(EXPR_CODES["SKF-EXPR-003"], `reference {{${key}}} is not available yet`, options);
    this.name = "PendingReferenceError";
    this.key = key;
  }
}

/**
 * Thrown when a value that is absent (the output of a Skipped/Omitted producer without a default) is used
 * where Argo cannot drop it: inside composite text, a nested tag, or as the result of an expression tag.
 * It is a terminal node error, never a reason to wait.
 */
export class AbsentOptionalError extends SkiffError {
  /** The flat variable key whose value is absent. */
  readonly key: string;

  constructor(key: string, message?: string, options: SkiffErrorOptions = {}) {
    super(
      EXPR_CODES["SKF-EXPR-004"],
      message ?? `{{${key}}} references an absent optional (its producer was skipped or omitted)`,
      options,
    );
    this.name = "AbsentOptionalError";
    this.key = key;
  }
}
