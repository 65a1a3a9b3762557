/**
 * JUnit XML reports: one testsuite per workflow, one testcase per step, for Jenkins' `junit` step, GitLab's
 * `artifacts:reports:junit` and any other tool that reads the Jenkins/Ant format.
 */
export {
  RunCollector,
  type PipelineRecord,
  type RunCollectorOptions,
  type StepLocation,
  type StepRecord,
} from "./collect.js";
export { escapeXml, renderJUnit, type JUnitRenderOptions } from "./junit.js";
export { createJUnitReporter, type JUnitReporter, type JUnitReporterOptions } from "./reporter.js";
