import { spawn } from "node:child_process";
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ArtifactDriver } from "../../interfaces/artifacts.js";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "../shared/codes.js";
import { blockOf, optionalString, requireString } from "../shared/fields.js";
import { partialPath } from "../shared/files.js";
import { readSecretField, type SecretLookup } from "../shared/secrets.js";

export interface GitSettings {
  secrets: SecretLookup | undefined;
  maxBytes: number;
  gitBinary: string;
  env: Record<string, string | undefined>;
}

/** What one artifact asks git to do, credentials resolved. */
interface GitRequest {
  repo: string;
  revision: string | undefined;
  depth: number | undefined;
  fetch: string[];
  branch: string | undefined;
  singleBranch: boolean;
  submodules: boolean;
  username: string | undefined;
  password: string | undefined;
  sshKey: string | undefined;
  ignoreHostKey: boolean;
  skipTls: boolean;
}

/** Answers git's username and password prompts from the environment of the one git process that asks. */
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$SKIFF_GIT_USERNAME" ;;
  *) printf '%s\\n' "$SKIFF_GIT_PASSWORD" ;;
esac
`;

/**
 * Argo's `git` artifacts (inputs only): the repository cloned with the `git` command at `revision`, as Argo's
 * executor does (clone, optional `fetch` refspecs, checkout, submodules). Credentials reach git through an
 * askpass helper or an SSH key file in a private temporary folder, never through arguments or the URL.
 */
export class GitArtifactDriver implements ArtifactDriver {
  readonly name = "git";

  constructor(private readonly settings: GitSettings) {}

  private request(artifact: Artifact): GitRequest {
    const where = `artifact '${artifact.name}' git`;
    const block = blockOf(artifact, "git");
    const depth = block.depth;
    if (depth !== undefined && (typeof depth !== "number" || !Number.isInteger(depth) || depth < 1)) {
      throw new SkiffError(ARTD_CODES["SKF-ARTD-004"], `${where}.depth must be a positive whole number`);
    }
    const fetch = block.fetch ?? [];
    if (!Array.isArray(fetch) || fetch.some((f) => typeof f !== "string")) {
      throw new SkiffError(ARTD_CODES["SKF-ARTD-004"], `${where}.fetch must be a list of refspecs`);
    }
    // Values git would read as options (`--upload-pack=...`) are refused rather than passed on.
    for (const [field, v] of [
      ["revision", block.revision],
      ["branch", block.branch],
      ...(fetch as unknown[]).map((f, i) => [`fetch[${i}]`, f] as const),
    ] as const) {
      if (typeof v === "string" && v.startsWith("-")) {
        throw new SkiffError(ARTD_CODES["SKF-ARTD-004"], `${where}.${field} may not start with '-'`);
      }
    }
    const s = this.settings.secrets;
    return {
      repo: requireString(block, "repo", where),
      revision: optionalString(block, "revision"),
      depth: depth as number | undefined,
      fetch: fetch as string[],
      branch: optionalString(block, "branch"),
      singleBranch: block.singleBranch === true,
      submodules: block.disableSubmodules !== true,
      username: readSecretField(s, block, "usernameSecret", where),
      password: readSecretField(s, block, "passwordSecret", where),
      sshKey: readSecretField(s, block, "sshPrivateKeySecret", where),
      ignoreHostKey: block.insecureIgnoreHostKey === true,
      skipTls: block.insecureSkipTLS === true,
    };
  }

  save(artifact: Artifact, _localPath: string): Promise<void> {
    return Promise.reject(
      new SkiffError(
        ARTD_CODES["SKF-ARTD-010"],
        `artifact '${artifact.name}' is a git artifact; git artifacts are inputs only`,
      ),
    );
  }

  async load(artifact: Artifact, localPath: string): Promise<void> {
    const req = this.request(artifact);
    const secretsDir = await mkdtemp(path.join(tmpdir(), "skiff-git-"));
    const partial = partialPath(localPath);
    try {
      await mkdir(path.dirname(localPath), { recursive: true });
      const git = await this.runner(req, secretsDir);
      const depth = req.depth === undefined ? [] : ["--depth", String(req.depth)];
      const clone = ["clone", "--no-recurse-submodules", ...depth];
      if (req.singleBranch) clone.push("--single-branch");
      if (req.branch) clone.push("--branch", req.branch);
      await git(["-c", "advice.detachedHead=false", ...clone, "--", req.repo, partial]);
      if (req.fetch.length > 0) await git(["-C", partial, "fetch", ...depth, "origin", ...req.fetch]);
      if (req.revision) {
        try {
          await git(["-C", partial, "-c", "advice.detachedHead=false", "checkout", req.revision]);
        } catch {
          // Not in what the clone brought (a commit beyond a shallow history, a ref outside the cloned branch):
          // ask the server for that revision alone.
          await git(["-C", partial, "fetch", ...depth, "origin", req.revision]);
          await git(["-C", partial, "-c", "advice.detachedHead=false", "checkout", "FETCH_HEAD"]);
        }
      }
      if (req.submodules) {
        await git(["-C", partial, "submodule", "update", "--init", "--recursive", "--force", ...depth]);
      }
      const size = await treeSize(partial);
      if (size > this.settings.maxBytes) {
        throw new SkiffError(
          ARTD_CODES["SKF-ARTD-003"],
          `${redactCredentials(req.repo)} is ${size} bytes checked out, over the load bound of ${this.settings.maxBytes} bytes`,
        );
      }
      await rm(localPath, { recursive: true, force: true });
      await rename(partial, localPath);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      throw e;
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
    }
  }

  /** True when the repository answers `git ls-remote`; refused credentials are an error, not absence. */
  async exists(artifact: Artifact): Promise<boolean> {
    const req = this.request(artifact);
    const secretsDir = await mkdtemp(path.join(tmpdir(), "skiff-git-"));
    try {
      const git = await this.runner(req, secretsDir);
      await git(["ls-remote", "--", req.repo]);
      return true;
    } catch (e) {
      if (e instanceof SkiffError && e.code === ARTD_CODES["SKF-ARTD-006"]) throw e;
      return false;
    } finally {
      await rm(secretsDir, { recursive: true, force: true });
    }
  }

  /** The repository is not Skiff's to delete: nothing happens, as for `raw` artifacts. */
  delete(_artifact: Artifact): Promise<void> {
    return Promise.resolve();
  }

  /** A function running git with this request's credentials and settings. */
  private async runner(req: GitRequest, secretsDir: string): Promise<(args: string[]) => Promise<void>> {
    const env: Record<string, string | undefined> = {
      ...this.settings.env,
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: undefined,
      SSH_ASKPASS: undefined,
    };
    const config = ["-c", "credential.helper="];
    if (req.skipTls) config.push("-c", "http.sslVerify=false");
    if (req.username !== undefined || req.password !== undefined) {
      const askpass = path.join(secretsDir, "askpass.sh");
      await writeFile(askpass, ASKPASS, { mode: 0o700 });
      env.GIT_ASKPASS = askpass;
      env.SKIFF_GIT_USERNAME = req.username ?? "";
      env.SKIFF_GIT_PASSWORD = req.password ?? "";
    }
    if (req.sshKey !== undefined) {
      const key = path.join(secretsDir, "id");
      await writeFile(key, req.sshKey.endsWith("\n") ? req.sshKey : `${req.sshKey}\n`, { mode: 0o600 });
      await chmod(key, 0o600);
      const hostKey = req.ignoreHostKey ? " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" : "";
      env.GIT_SSH_COMMAND = `ssh -i '${key}' -o IdentitiesOnly=yes -o BatchMode=yes${hostKey}`;
    }
    return (args) => runGit(this.settings.gitBinary, [...config, ...args], env, req.repo);
  }
}

/** Hides `user:password@` in URLs, in case a user wrote credentials into `repo`. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}

function runGit(
  binary: string,
  args: string[],
  env: Record<string, string | undefined>,
  repo: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 8192) stderr += c.toString();
    });
    child.on("error", (e) =>
      reject(new SkiffError(ARTD_CODES["SKF-ARTD-008"], `cannot run ${binary}: ${e.message}`, { cause: e })),
    );
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const said = redactCredentials(stderr.trim());
      const denied =
        /authentication failed|could not read (username|password)|permission denied|\b40[13]\b/i.test(said);
      const command = args.find((a) => ["clone", "fetch", "checkout", "submodule", "ls-remote"].includes(a));
      reject(
        new SkiffError(
          denied ? ARTD_CODES["SKF-ARTD-006"] : ARTD_CODES["SKF-ARTD-008"],
          `git ${command ?? args[0]} of ${redactCredentials(repo)} failed (exit ${code}): ${said}`,
        ),
      );
    });
  });
}

/** Bytes of the regular files under a folder, `.git` included (it is part of what the step receives). */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}
