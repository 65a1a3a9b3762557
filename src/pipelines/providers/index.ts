import { SkiffError } from "../../../runtime/errors/index.js";
import { CI_CODES } from "./codes.js";
import type { ChangedFilesReader } from "./diff.js";
import { readGitLabContext } from "./gitlab.js";
import { readJenkinsContext } from "./jenkins.js";
import type { CiContext, CiProvider } from "./types.js";

/**
 * Provider adapters: one Git context for GitHub, GitLab and Jenkins. Each reads its CI system's variables
 * into the same {@link GitContext} the Action fills from GitHub's event, so pipeline selection and the
 * `skiff.dev/on-*` annotations mean the same thing everywhere.
 */
export { CI_CODES } from "./codes.js";
export { gitChangedFiles, isNullSha, type ChangedFilesReader } from "./diff.js";
export { GITLAB_EVENTS, readGitLabContext } from "./gitlab.js";
export { readJenkinsContext, repositoryOf } from "./jenkins.js";
export type { CiContext, CiProvider } from "./types.js";

/** The provider whose variables are set: GitLab (`GITLAB_CI`), Jenkins (`JENKINS_URL`), else undefined. */
export function detectProvider(env: NodeJS.ProcessEnv): CiProvider | undefined {
  if (env.GITLAB_CI === "true") return "gitlab";
  if (env.JENKINS_URL || env.JENKINS_HOME) return "jenkins";
  return undefined;
}

/**
 * Reads the Git context of the CI job this runs in. `auto` detects the provider; throws SKF-CI-001 when none
 * is recognised and SKF-CI-002 when a variable the provider always sets is missing.
 */
export async function readCiContext(
  provider: CiProvider | "auto",
  env: NodeJS.ProcessEnv,
  options: { cwd: string; changedFiles?: ChangedFilesReader; event?: string },
): Promise<CiContext> {
  const which = provider === "auto" ? detectProvider(env) : provider;
  if (!which)
    throw new SkiffError(CI_CODES["SKF-CI-001"], "no GitLab CI or Jenkins variables are set", {
      hint: env.GITHUB_ACTIONS
        ? "On GitHub Actions use the Skiff action (uses: skiff-dev/skiff@v1), which reads the event payload."
        : undefined,
    });
  const read = which === "gitlab" ? readGitLabContext : readJenkinsContext;
  const ci = await read(env, options);
  if (options.event) ci.context.event = options.event;
  return ci;
}
