/**
 * Argo manifests: loading with source positions, validation (Argo's lint) and compilation into the
 * CompiledWorkflow the controller runs.
 */
export * from "./types.js";
export type * from "./compiled.js";
export { SPEC_CODES } from "./codes.js";
export { SPEC_LIMITS } from "./limits.js";
export type { PositionIndex } from "./positions.js";
export { formatPath } from "./positions.js";
export {
  parseManifests,
  loadPaths,
  type LoadedManifest,
  type LoadResult,
  type ParseOptions,
} from "./load.js";
export { Library } from "./library.js";
export { applyTemplateDefaults, type CompileOptions } from "./compile.js";
export { compile, validate, type ValidateOptions } from "./validate.js";
export type { ExpressionKind, ExpressionSyntaxCheck, ExpressionSyntaxProblem } from "./expressions.js";
export { validateStructure } from "./rules/index.js";
export { findCycle } from "./rules/context.js";
export { lintPaths, type LintOptions, type LintResult } from "./lint.js";
export { dependsTaskNames, parseDepends, TASK_RESULTS } from "./depends.js";
export { findTags } from "./tags.js";
export { parseDuration, parseQuantity, nodeId, podName, fnv32a } from "./units.js";
