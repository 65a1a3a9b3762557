import { execFile } from "node:child_process";

/**
 * Lists the files changed between two revisions of the checkout (`git diff --name-only`), or undefined
 * when Git cannot tell (a shallow clone without the base, no Git). Undefined makes path filters match.
 */
export type ChangedFilesReader = (base: string, head: string, cwd: string) => Promise<string[] | undefined>;

/** {@link ChangedFilesReader} through the `git` command: three dots, so a base behind the merge base works. */
export const gitChangedFiles: ChangedFilesReader = (base, head, cwd) =>
  new Promise((resolve) => {
    execFile(
      "git",
      ["diff", "--name-only", "--no-renames", `${base}...${head}`],
      { cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) resolve(undefined);
        else
          resolve(
            stdout
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => l !== "")
              .sort(),
          );
      },
    );
  });

/** An all-zero SHA: GitLab's and Jenkins' "no previous commit" (a new branch). */
export function isNullSha(sha: string | undefined): boolean {
  return !sha || /^0+$/.test(sha);
}
