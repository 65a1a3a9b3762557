import type { OpenCheck } from "../reporters/github-checks/reporter.js";

/** Action state: the file listing check runs still open, written by the main step, read by the post step. */
export const OPEN_CHECKS_STATE = "open-checks-file";

/** What the open-checks file holds. */
export interface OpenChecksFile {
  open: OpenCheck[];
  /** The main step reached its end: open checks lost their last update to GitHub, they were not cancelled. */
  finished: boolean;
}
