import { existsSync } from "node:fs";
import { SkiffError } from "../../../runtime/errors/index.js";
import { CI_CODES } from "./codes.js";
import type { GitContext } from "../git-context.js";

/** The CI systems `skiff ci` reads. GitHub has the Action, which reads the event payload instead. */
export type CiProvider = "gitlab" | "jenkins";

/** What a CI job's environment says: the Git context and where the provider's reports go. */
export interface CiContext {
  provider: CiProvider;
  context: GitContext;
  /** Notes for the log (e.g. the changed files could not be listed). */
  notes: string[];
  /** The checkout (`CI_PROJECT_DIR`, `WORKSPACE`). */
  workspace: string;
  /** The job's page, linked from reports. */
  jobUrl?: string;
  /** GitLab: the project's id (`CI_PROJECT_ID`), which the API paths take. */
  projectId?: string;
  /** GitLab: the pipeline's id (`CI_PIPELINE_ID`): commit statuses group under it. */
  pipelineId?: number;
  /** GitLab: the REST API's base URL (`CI_API_V4_URL`). */
  apiUrl?: string;
}

/**
 * The checkout: the provider's variable when it names a folder here, else the working directory (the job's
 * shell starts in the checkout; a job run locally, e.g. by gitlab-ci-local, may name a folder elsewhere).
 */
export function checkout(variable: string | undefined, cwd: string): string {
  return variable && existsSync(variable) ? variable : cwd;
}

/** A request number variable (`CI_MERGE_REQUEST_IID`, `CHANGE_ID`); SKF-CI-002 when it is not one. */
export function requestNumber(name: string, value: string | undefined, hint?: string): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0))
    throw new SkiffError(CI_CODES["SKF-CI-002"], `${name} is not a number: ${value}`, hint ? { hint } : {});
  return n;
}

/** The full ref that runs: the request's ref, else the tag's, else the branch's. */
export function fullRef(requestRef: string | undefined, tag: string | undefined, branch: string): string {
  if (requestRef) return requestRef;
  if (tag) return `refs/tags/${tag}`;
  return branch ? `refs/heads/${branch}` : "";
}
