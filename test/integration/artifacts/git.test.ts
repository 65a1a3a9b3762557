import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitDriver } from "../../../runtime/artifacts/git/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { commit, git, startGitServer, type GitServer } from "./git-server.js";
import { scratch, secret, secretsOf } from "./helpers.js";

// Real git on both sides: `git http-backend` behind a node:http server requiring basic auth, and the driver's
// `git` client.
let server: GitServer;
let work: { dir: string; cleanup: () => Promise<void> };
let first: string;
let second: string;
let third: string;

const secrets = secretsOf(
  secret("git-creds", { username: "bob", password: "hunter2" }),
  secret("git-wrong", { username: "bob", password: "wrong-pass" }),
);
const env = { PATH: process.env.PATH, HOME: "/nonexistent", GIT_CONFIG_NOSYSTEM: "1" };
const driver = createGitDriver({ secrets, env });

function art(extra: Record<string, unknown> = {}, repo = "app.git"): Artifact {
  return {
    name: "src",
    git: {
      repo: `${server.url}/${repo}`,
      usernameSecret: { name: "git-creds", key: "username" },
      passwordSecret: { name: "git-creds", key: "password" },
      ...extra,
    },
  };
}

beforeAll(async () => {
  work = await scratch("git");
  const root = path.join(work.dir, "served");
  server = await startGitServer(root, { bob: "hunter2" });
  // A library repository, used as a submodule of the app.
  const lib = path.join(work.dir, "lib");
  git(work.dir, "init", "-q", "-b", "main", lib);
  await commit(lib, "lib", { "lib.txt": "library" });
  git(work.dir, "clone", "-q", "--bare", lib, path.join(root, "lib.git"));

  const app = path.join(work.dir, "app");
  git(work.dir, "init", "-q", "-b", "main", app);
  first = await commit(app, "one", { "version.txt": "1" });
  git(app, "tag", "v1");
  second = await commit(app, "two", { "version.txt": "2" });
  git(app, "checkout", "-q", "-b", "dev", first);
  await commit(app, "dev", { "dev.txt": "on dev" });
  git(app, "checkout", "-q", "main");
  // Added from the local path (the server runs in this process and synchronous git would block it), then pointed
  // at the server, as a hosted repository's .gitmodules would be.
  git(app, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "vendor/lib");
  git(app, "config", "-f", ".gitmodules", "submodule.vendor/lib.url", `${server.url}/lib.git`);
  third = await commit(app, "three", { "version.txt": "3" });
  git(app, "update-ref", "refs/meta/config", first);
  git(work.dir, "clone", "-q", "--bare", app, path.join(root, "app.git"));
  git(path.join(root, "app.git"), "update-ref", "refs/meta/config", first);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await work?.cleanup();
});

describe("git driver against git http-backend", () => {
  it("clones the default branch with submodules", async () => {
    const dest = path.join(work.dir, "out", "default");
    await driver.load(art(), dest);
    expect(await readFile(path.join(dest, "version.txt"), "utf8")).toBe("3");
    expect(await readFile(path.join(dest, "vendor/lib/lib.txt"), "utf8")).toBe("library");
    expect(git(dest, "rev-parse", "HEAD")).toBe(third);
    expect(existsSync(path.join(dest, ".git"))).toBe(true);
  });

  it("checks out a tag, and leaves submodules out when told", async () => {
    const dest = path.join(work.dir, "out", "tag");
    await driver.load(art({ revision: "v1", disableSubmodules: true }), dest);
    expect(await readFile(path.join(dest, "version.txt"), "utf8")).toBe("1");
    expect(git(dest, "rev-parse", "HEAD")).toBe(first);
    const nodest = path.join(work.dir, "out", "nosub");
    await driver.load(art({ disableSubmodules: true }), nodest);
    expect(await readdir(path.join(nodest, "vendor/lib"))).toEqual([]);
  });

  it("checks out a commit outside a shallow clone's history", async () => {
    const dest = path.join(work.dir, "out", "shallow");
    await driver.load(art({ revision: second, depth: 1, disableSubmodules: true }), dest);
    expect(git(dest, "rev-parse", "HEAD")).toBe(second);
    expect(git(dest, "rev-list", "--count", "HEAD")).toBe("1");
  });

  it("clones one branch only with singleBranch", async () => {
    const dest = path.join(work.dir, "out", "dev");
    await driver.load(art({ branch: "dev", singleBranch: true }), dest);
    expect(await readFile(path.join(dest, "dev.txt"), "utf8")).toBe("on dev");
    expect(
      git(dest, "branch", "-r")
        .split("\n")
        .map((s) => s.trim()),
    ).toEqual(["origin/dev"]);
  });

  it("fetches extra refspecs before checking out", async () => {
    const dest = path.join(work.dir, "out", "meta");
    await driver.load(
      art({
        fetch: ["+refs/meta/*:refs/remotes/origin/meta/*"],
        revision: "origin/meta/config",
        disableSubmodules: true,
      }),
      dest,
    );
    expect(git(dest, "rev-parse", "HEAD")).toBe(first);
  });

  it("reports refused credentials without the password, and leaves nothing behind", async () => {
    const dest = path.join(work.dir, "out", "denied");
    const err = await driver
      .load(art({ passwordSecret: { name: "git-wrong", key: "password" } }), dest)
      .catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: "SKF-ARTD-006" });
    expect(err?.message).not.toContain("wrong-pass");
    expect(existsSync(dest)).toBe(false);
    expect((await readdir(path.dirname(dest))).filter((n) => n.startsWith("denied"))).toEqual([]);
  });

  it("fails with git's message for an unknown revision", async () => {
    await expect(
      driver.load(
        art({ revision: "no-such-ref", disableSubmodules: true }),
        path.join(work.dir, "out", "bad"),
      ),
    ).rejects.toMatchObject({ code: "SKF-ARTD-008", message: expect.stringContaining("no-such-ref") });
  });

  it("refuses revisions, branches and refspecs that git would take as options", async () => {
    for (const extra of [
      { revision: "--upload-pack=touch /tmp/x" },
      { branch: "-b" },
      { fetch: ["--all"] },
    ]) {
      await expect(driver.load(art(extra), path.join(work.dir, "out", "opt"))).rejects.toMatchObject({
        code: "SKF-ARTD-004",
      });
    }
  });

  it("bounds the checkout size", async () => {
    const small = createGitDriver({ secrets, env, maxBytes: 100 });
    await expect(
      small.load(art({ disableSubmodules: true }), path.join(work.dir, "out", "big")),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-003",
    });
  });

  it("is read-only; exists asks the server", async () => {
    await expect(driver.save(art(), work.dir)).rejects.toMatchObject({ code: "SKF-ARTD-010" });
    expect(await driver.exists(art())).toBe(true);
    expect(await driver.exists(art({}, "missing.git"))).toBe(false);
    await expect(
      driver.exists(art({ passwordSecret: { name: "git-wrong", key: "password" } })),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-006",
    });
  });
});
