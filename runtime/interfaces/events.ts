import type { NodeStatus, Workflow } from "../spec/types.js";
import type { LogLine } from "./executor.js";

/** The typed stream the controller emits. Reporters subscribe; nothing subscribes the other way round. */
export type ControllerEvent =
  | { type: "workflow-started"; workflow: Workflow }
  | { type: "node-updated"; workflow: Workflow; node: NodeStatus; previousPhase?: NodeStatus["phase"] }
  | { type: "log"; workflowName: string; line: LogLine }
  | { type: "workflow-updated"; workflow: Workflow }
  | { type: "workflow-finished"; workflow: Workflow };

export type ControllerEventListener = (event: ControllerEvent) => void;
