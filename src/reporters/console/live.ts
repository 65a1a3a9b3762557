import type { ControllerEvent } from "../../../runtime/interfaces/events.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { PHASE_ICONS, renderNodeTree, renderSummary } from "./tree.js";

export interface ConsoleReporterOptions {
  /** Where the tree or the progress lines go (stderr when stdout carries `-o json`). */
  out: NodeJS.WritableStream;
  /** Where step logs go with `--logs`. */
  logOut: NodeJS.WritableStream;
  /** Redraw a live tree (a terminal) or print one line per change (CI logs, pipes). */
  live: boolean;
  logs: boolean;
  wide?: boolean;
  color?: boolean;
  /** Minimum time between two redraws of the live tree, in ms. */
  redrawMs?: number;
}

export interface ConsoleReporter {
  onEvent(e: ControllerEvent): void;
  /** Draws the final state (and stops redrawing). */
  finish(wf: Workflow): void;
}

/**
 * The terminal view of `skiff run`: a live tree like `argo submit --watch` on a terminal, plain lines
 * elsewhere. It only listens to controller events; it never slows the run (redraws are throttled).
 */
export function createConsoleReporter(options: ConsoleReporterOptions): ConsoleReporter {
  const redrawMs = options.redrawMs ?? 150;
  let latest: Workflow | undefined;
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const clear = () => {
    if (drawnLines > 0) options.out.write(`\x1b[${drawnLines}A\x1b[0J`);
    drawnLines = 0;
  };
  const draw = () => {
    timer = undefined;
    if (!latest || finished) return;
    clear();
    const lines = [
      ...renderSummary(latest),
      "",
      ...renderNodeTree(latest, { wide: options.wide, color: options.color }),
    ];
    options.out.write(lines.join("\n") + "\n");
    drawnLines = lines.length;
  };
  const schedule = () => {
    if (timer === undefined && !finished) {
      timer = setTimeout(draw, redrawMs);
      timer.unref?.();
    }
  };

  return {
    onEvent(e) {
      switch (e.type) {
        case "workflow-started":
        case "workflow-updated":
        case "workflow-finished":
          latest = e.workflow;
          if (options.live) schedule();
          break;
        case "node-updated": {
          latest = e.workflow;
          if (options.live) schedule();
          else if (e.node.phase !== e.previousPhase) {
            const n = e.node;
            const name = n.id === e.workflow.metadata.name ? n.name : n.displayName || n.name;
            const msg = n.message ? `: ${n.message}` : "";
            options.out.write(`${PHASE_ICONS[n.phase]} ${name} ${n.phase}${msg}\n`);
          }
          break;
        }
        case "log": {
          if (!options.logs) break;
          const node = latest?.status?.nodes?.[e.line.nodeId];
          const prefix = node ? node.displayName || node.name : e.line.nodeId;
          if (options.live && options.logOut === options.out) clear();
          options.logOut.write(`${prefix}: ${e.line.text}\n`);
          if (options.live && options.logOut === options.out) schedule();
          break;
        }
      }
    },
    finish(wf) {
      latest = wf;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (options.live) {
        draw();
      } else {
        options.out.write(
          [...renderSummary(wf), "", ...renderNodeTree(wf, { wide: options.wide })].join("\n") + "\n",
        );
      }
      finished = true;
    },
  };
}
