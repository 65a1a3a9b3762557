import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import { scratch, secret, secretsOf } from "./helpers.js";
import { startFileServer, type FileServer } from "./http-server.js";

// The embedded repository hands artifacts with a remote location to the remote drivers, with the Secrets it
// was given; key-only artifacts still resolve to the local store.
let server: FileServer;
let work: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  work = await scratch("repo-remote");
  server = await startFileServer({ users: { alice: "pw" } });
});

afterAll(async () => {
  await server?.close();
  await work?.cleanup();
});

describe("local repository with remote drivers", () => {
  it("routes each remote location to its driver", () => {
    const repo = createLocalRepository(path.join(work.dir, "store"));
    expect(repo.driverFor({ name: "a", s3: { bucket: "b", key: "k", endpoint: "e" } }).name).toBe("s3");
    expect(
      repo.driverFor({ name: "a", gcs: { bucket: "b", key: "k", serviceAccountKeySecret: {} } }).name,
    ).toBe("gcs");
    expect(repo.driverFor({ name: "a", azure: { container: "c", blob: "b", endpoint: "e" } }).name).toBe(
      "azure",
    );
    expect(repo.driverFor({ name: "a", http: { url: "http://x" } }).name).toBe("http");
    expect(repo.driverFor({ name: "a", git: { repo: "x" } }).name).toBe("git");
    expect(repo.driverFor({ name: "a", artifactory: { url: "http://x" } }).name).toBe("artifactory");
    expect(repo.driverFor({ name: "a", oss: { bucket: "b", key: "k", endpoint: "e" } }).name).toBe("oss");
    // Key-only: the default repository's key.
    expect(repo.driverFor({ name: "a", s3: { key: "k" } }).name).toBe("local");
    expect(() => repo.driverFor({ name: "a", hdfs: { path: "/x", addresses: ["h"] } })).toThrow(
      expect.objectContaining({ code: "SKF-ART-004" }),
    );
  });

  it("passes its Secrets to the drivers", async () => {
    const repo = createLocalRepository(path.join(work.dir, "store"), {
      remote: { secrets: secretsOf(secret("web", { user: "alice", pass: "pw" })) },
    });
    const a = {
      name: "r",
      http: {
        url: `${server.url}/through-repo.txt`,
        auth: {
          basicAuth: {
            usernameSecret: { name: "web", key: "user" },
            passwordSecret: { name: "web", key: "pass" },
          },
        },
      },
    };
    const src = path.join(work.dir, "src.txt");
    await writeFile(src, "via repository");
    await repo.driverFor(a).save(a, src);
    const dest = path.join(work.dir, "dest.txt");
    await repo.driverFor(a).load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("via repository");
  });
});
