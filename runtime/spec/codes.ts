import { defineErrorCodes } from "../errors/index.js";

/** Error codes of loading, validating and compiling Argo manifests. */
export const SPEC_CODES = defineErrorCodes({
  "SKF-SPEC-001": {
    title: "Invalid YAML",
    hint: "Fix the YAML syntax at the given line; indent with spaces, quote strings that contain ': ' or start with special characters.",
  },
  "SKF-SPEC-002": {
    title: "Duplicate key",
    hint: "A mapping lists the same key twice; YAML keeps only one of them. Remove or rename the duplicate.",
  },
  "SKF-SPEC-003": {
    title: "Tab used for indentation",
    hint: "YAML forbids tab characters in indentation. Replace tabs with spaces.",
  },
  "SKF-SPEC-004": {
    title: "Not a Kubernetes object",
    hint: "Each document must be a mapping with apiVersion, kind and metadata.",
  },
  "SKF-SPEC-005": {
    title: "Unsupported kind",
    hint: "Skiff reads Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow (argoproj.io/v1alpha1) and ConfigMap, Secret (v1).",
  },
  "SKF-SPEC-006": {
    title: "Unsupported apiVersion",
    hint: "Argo objects use apiVersion argoproj.io/v1alpha1; ConfigMap and Secret use v1.",
  },
  "SKF-SPEC-007": {
    title: "Path not readable",
    hint: "Check that the file or directory exists and that you may read it.",
  },
  "SKF-SPEC-008": {
    title: "Ignored object",
    hint: "Objects of other kinds found in a directory are skipped; pass the file explicitly to see it as an error.",
  },
  "SKF-SPEC-010": {
    title: "Wrong field type",
    hint: "Check the field against Argo's schema: the value has the wrong type (string, number, list, mapping).",
  },
  "SKF-SPEC-011": {
    title: "Missing required field",
    hint: "Add the field: Argo cannot run the object without it.",
  },
  "SKF-SPEC-012": {
    title: "Unknown field",
    hint: "The field is not part of Argo's schema: check its spelling and indentation.",
  },
  "SKF-SPEC-013": {
    title: "Invalid enum value",
    hint: "Use one of the values listed in the message.",
  },
  "SKF-SPEC-020": {
    title: "Missing workflow name",
    hint: "Set metadata.name or metadata.generateName.",
  },
  "SKF-SPEC-021": {
    title: "Invalid name",
    hint: "Names start with a letter or digit and contain only letters, digits and '-' (workflow names: lower case, max 63 characters).",
  },
  "SKF-SPEC-022": {
    title: "Name too long",
    hint: "Shorten the name: workflow names are limited to 63 characters (generateName prefixes to 58), template, step and task names to 128.",
  },
  "SKF-SPEC-023": {
    title: "Duplicate name",
    hint: "Template names must be unique within a workflow, step names within a steps template, task names within a DAG.",
  },
  "SKF-SPEC-030": {
    title: "Missing entrypoint",
    hint: "Set spec.entrypoint to the name of one of spec.templates (or pass --entrypoint).",
  },
  "SKF-SPEC-031": {
    title: "Template not found",
    hint: "The referenced template does not exist in this workflow (or WorkflowTemplate). Check its name.",
  },
  "SKF-SPEC-032": {
    title: "WorkflowTemplate not found",
    hint: "Pass the file that defines the (Cluster)WorkflowTemplate alongside the workflow, or check the name and clusterScope.",
  },
  "SKF-SPEC-033": {
    title: "Templates defined beside workflowTemplateRef",
    hint: "A Workflow that uses spec.workflowTemplateRef may not define spec.templates; move them into the WorkflowTemplate.",
  },
  "SKF-SPEC-034": {
    title: "No template type",
    hint: "A template must have exactly one of container, script, containerSet, resource, data, http, plugin, suspend, steps or dag.",
  },
  "SKF-SPEC-035": {
    title: "More than one template type",
    hint: "A template may declare only one of container, script, containerSet, resource, data, http, plugin, suspend, steps or dag.",
  },
  "SKF-SPEC-036": {
    title: "Invalid template reference",
    hint: "A step, task or hook names exactly one of template, templateRef or inline.",
  },
  "SKF-SPEC-040": {
    title: "Missing argument",
    hint: "Pass a value for the input parameter (arguments.parameters) or give the input a default.",
  },
  "SKF-SPEC-042": {
    title: "Unresolvable variable",
    hint: "The {{...}} reference names a variable that does not exist here. Check spelling and scope (earlier step groups, ancestor DAG tasks, declared inputs/outputs).",
  },
  "SKF-SPEC-043": {
    title: "Invalid parameter",
    hint: "A workflow argument needs a value, a valueFrom, or (for inputs) a default; enum values must include the value.",
  },
  "SKF-SPEC-044": {
    title: "Invalid artifact",
    hint: "Artifacts need a name; input artifacts of container/script templates need a path, arguments need a source (from, fromExpression or a location).",
  },
  "SKF-SPEC-050": {
    title: "DAG cycle",
    hint: "Tasks depend on each other in a loop; remove one of the dependencies.",
  },
  "SKF-SPEC-051": {
    title: "Unknown dependency",
    hint: "depends/dependencies name a task that is not in this DAG.",
  },
  "SKF-SPEC-052": {
    title: "Invalid depends expression",
    hint: "Use task names combined with &&, || and !, optionally with .Succeeded, .Failed, .Errored, .Skipped, .Omitted, .Daemoned, .AnySucceeded or .AllFailed.",
  },
  "SKF-SPEC-053": {
    title: "depends mixed with dependencies",
    hint: "Use either depends or dependencies in one DAG template, not both.",
  },
  "SKF-SPEC-054": {
    title: "continueOn with depends",
    hint: "continueOn cannot be combined with depends; express the condition in depends (e.g. A.Failed).",
  },
  "SKF-SPEC-055": {
    title: "Invalid DAG target",
    hint: "dag.target names tasks (space separated) of this DAG.",
  },
  "SKF-SPEC-060": {
    title: "Conflicting loops",
    hint: "Use only one of withItems, withParam and withSequence.",
  },
  "SKF-SPEC-061": {
    title: "Invalid withSequence",
    hint: "withSequence takes either count or end (not both), and numbers.",
  },
  "SKF-SPEC-062": {
    title: "Field not allowed on this template type",
    hint: "parallelism and failFast apply to steps/dag templates only; timeout does not apply to steps/dag templates.",
  },
  "SKF-SPEC-063": {
    title: "Invalid duration",
    hint: 'Use a Go duration such as "30s", "1m30s", "2h" or a whole number of seconds.',
  },
  "SKF-SPEC-064": {
    title: "Hook without expression",
    hint: "Lifecycle hooks other than 'exit' need an expression that says when they run.",
  },
  "SKF-SPEC-065": {
    title: "Invalid memoize key",
    hint: "memoize.key must be a name of letters, digits and '-' (variables allowed), and memoize.cache.configMap.name must be set.",
  },
  "SKF-SPEC-066": {
    title: "Invalid retryStrategy",
    hint: "retryPolicy is one of Always, OnFailure, OnError, OnTransientError; limit is a non-negative number; backoff durations are Go durations.",
  },
  "SKF-SPEC-067": {
    title: "Invalid expression",
    hint: "Fix the expression syntax.",
  },
  "SKF-SPEC-068": {
    title: "Invalid quantity",
    hint: 'Use a Kubernetes quantity such as "100m", "0.5", "1Gi" or "500M".',
  },
  "SKF-SPEC-069": {
    title: "Invalid value",
    hint: "The value is outside what Argo accepts here; see the message.",
  },
  "SKF-SPEC-070": {
    title: "Invalid workflow",
    hint: "See each listed problem.",
  },
  "SKF-SPEC-072": {
    title: "Invalid CronWorkflow",
    hint: "A CronWorkflow needs spec.schedule or spec.schedules and a spec.workflowSpec.",
  },
  "SKF-SPEC-080": {
    title: "File too large",
    hint: "A file may hold at most 4 MiB (Kubernetes refuses larger requests). Split it into several files.",
  },
  "SKF-SPEC-081": {
    title: "Nested too deeply",
    hint: "Mappings and lists may nest at most 100 levels. Flatten the value, or pass deep data as a JSON string.",
  },
  "SKF-SPEC-082": {
    title: "Too many YAML nodes",
    hint: "A file may hold at most 200,000 YAML nodes (keys, values and items). Split it into several files.",
  },
  "SKF-SPEC-083": {
    title: "Template calls nested too deeply",
    hint: "Templates may call templates at most 100 levels deep, as in Argo. Shorten the chain of steps, dag tasks or templateRefs.",
  },
  "SKF-SPEC-084": {
    title: "Loop too wide",
    hint: "withSequence may expand to at most 100,000 items. Split the work into batches, e.g. a sequence of batches whose steps loop over one batch each.",
  },
});
