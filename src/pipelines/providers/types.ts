import { existsSync } from "node:fs";
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
