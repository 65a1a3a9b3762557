import type { Workflow } from "../../../runtime/spec/types.js";
import type { RunReporter } from "../events.js";
import type { ConsoleReporter } from "./live.js";

/**
 * The console view of a run: a console reporter per workflow, made as the workflow starts and fed its
 * controller events. When the workflow completes, `completed` runs (by default it draws the final state).
 */
export function createConsoleRunReporter(
  create: () => ConsoleReporter,
  completed: (wf: Workflow, reporter: ConsoleReporter) => void = (wf, reporter) => reporter.finish(wf),
): RunReporter {
  const running = new Map<number, ConsoleReporter>();
  return {
    onEvent(e) {
      if (e.type === "workflow-starting") running.set(e.index, create());
      else if (e.type === "controller") running.get(e.index)?.onEvent(e.event);
      else if (e.type === "workflow-completed") {
        const reporter = running.get(e.index);
        running.delete(e.index);
        if (reporter) completed(e.workflow, reporter);
      }
    },
  };
}
