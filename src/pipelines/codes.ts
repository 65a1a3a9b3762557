import { defineErrorCodes } from "../../runtime/errors/index.js";

/** Errors of pipeline discovery, trigger annotations and the compact `kind: Pipeline` format. */
export const PIPE_CODES = defineErrorCodes({
  "SKF-PIPE-001": {
    title: "Pipelines folder not readable",
    hint: "Check the `pipelines` input (default `.skiff/`): it must name a folder or file in the checkout.",
  },
  "SKF-PIPE-002": {
    title: "Pipeline is not valid",
    hint: "See docs/pipeline-format.md for the fields of `kind: Pipeline`; editors complete them with schemas/pipeline.schema.json.",
  },
  "SKF-PIPE-003": {
    title: "Task needs an unknown task",
    hint: "`needs` lists names of other tasks of the same pipeline.",
  },
  "SKF-PIPE-004": {
    title: "Tasks need each other in a cycle",
    hint: "Remove one of the `needs` entries so that the tasks form a graph without cycles.",
  },
  "SKF-PIPE-005": {
    title: "Bad trigger annotation",
    hint: "skiff.dev/on-* annotations take a name, a comma-separated list or a `[a, b]` list; on-comment takes a regular expression.",
  },
  "SKF-PIPE-006": {
    title: "Artifact input names an unknown artifact",
    hint: "`from: <task>.<artifact>` must name an output artifact of a task this task needs.",
  },
  "SKF-PIPE-007": {
    title: "Bad duration",
    hint: "Durations are written like 90s, 10m or 1h30m.",
  },
  "SKF-PIPE-008": {
    title: "Nothing to convert",
    hint: "`skiff convert` reads a file holding a `kind: Pipeline` document.",
  },
});
