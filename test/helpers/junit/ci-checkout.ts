import { execFileSync } from "node:child_process";

/*
 * The checkout the CI wrappers' end-to-end tests run on: a pipeline whose test step prints a compiler-style
 * `file:line` error and fails, so every reporter has a failing line to show.
 */

/** `.skiff/ci.yaml`: lint passes, test fails at src/app.ts:3, deploy is omitted. */
export const FAILING_CI = `kind: Pipeline
metadata:
  name: ci
tasks:
  lint:
    run: echo lint ok
  test:
    needs: [lint]
    run: |
      echo "src/app.ts:3:5: error: expected 1 to equal 2"
      exit 1
  deploy:
    needs: [test]
    run: echo deploy
`;

/** `src/app.ts` with the line the test step complains about. */
export const FAILING_SOURCE = "export const one = 1;\n\nexpect(one).toBe(2);\n";

/** Runs git in a folder with a fixed author; returns its output, trimmed. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=dev@example.com", "-c", "user.name=dev", ...args], {
    cwd: dir,
  })
    .toString()
    .trim();
}
