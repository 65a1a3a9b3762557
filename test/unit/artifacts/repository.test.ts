import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalDriver } from "../../../runtime/artifacts/local/index.js";
import { createRawDriver } from "../../../runtime/artifacts/raw/index.js";
import { createLocalRepository, keyOnlyKey, locationOf } from "../../../runtime/artifacts/repository.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "skiff-repo-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("local repository", () => {
  it("locates artifacts under Argo's default key, dropping other locations", () => {
    const repo = createLocalRepository(dir);
    const located = repo.locate({ name: "out", path: "/tmp/x", s3: { key: "k" } }, "wf/wf-t-123/out.tgz");
    expect(located).toEqual({ name: "out", path: "/tmp/x", local: { key: "wf/wf-t-123/out.tgz" } });
    expect(locationOf(located)).toBe("local");
  });

  it("dispatches on the location field", () => {
    const repo = createLocalRepository(dir);
    expect(repo.driverFor({ name: "a", local: { key: "k" } }).name).toBe("local");
    expect(repo.driverFor({ name: "a", raw: { data: "x" } }).name).toBe("raw");
    expect(repo.driverFor({ name: "a", s3: { key: "k", bucket: "b" } }).name).toBe("s3");
    expect(() => repo.driverFor({ name: "a", hdfs: { path: "/p", addresses: ["h"] } })).toThrow(
      expect.objectContaining({ code: "SKF-ART-004", message: expect.stringContaining("'hdfs'") }),
    );
    expect(() => repo.driverFor({ name: "a" })).toThrow(expect.objectContaining({ code: "SKF-ART-005" }));
  });
});

describe("local driver", () => {
  it("saves, finds, loads and deletes files and folders", async () => {
    const driver = createLocalDriver({ root: path.join(dir, "repo") });
    const file = path.join(dir, "f.tgz");
    await writeFile(file, "bytes");
    const art = { name: "a", local: { key: "wf/pod/a.tgz" } };
    expect(await driver.exists(art)).toBe(false);
    await driver.save(art, file);
    expect(await driver.exists(art)).toBe(true);
    expect(await readFile(path.join(dir, "repo", "wf/pod/a.tgz"), "utf8")).toBe("bytes");
    await writeFile(file, "newer");
    await driver.save(art, file);
    await driver.load(art, path.join(dir, "loaded", "x"));
    expect(await readFile(path.join(dir, "loaded", "x"), "utf8")).toBe("newer");
    await driver.delete(art);
    expect(await driver.exists(art)).toBe(false);

    const folder = path.join(dir, "folder");
    await mkdir(path.join(folder, "s"), { recursive: true });
    await writeFile(path.join(folder, "s", "f"), "in folder");
    const d = { name: "d", local: { key: "wf/pod/folder" } };
    await driver.save(d, folder);
    await driver.load(d, path.join(dir, "loaded2"));
    expect(await readFile(path.join(dir, "loaded2", "s", "f"), "utf8")).toBe("in folder");
    await writeFile(path.join(folder, "s", "f"), "second");
    await driver.save(d, folder);
    await driver.load(d, path.join(dir, "loaded3"));
    expect(await readFile(path.join(dir, "loaded3", "s", "f"), "utf8")).toBe("second");
    expect((await readdir(path.join(dir, "repo", "wf", "pod"))).sort()).toEqual(["folder"]);
  });

  it("reports missing artifacts and refuses keys that leave the root", async () => {
    const driver = createLocalDriver({ root: path.join(dir, "repo") });
    await expect(
      driver.load({ name: "a", local: { key: "nope" } }, path.join(dir, "x")),
    ).rejects.toMatchObject({
      code: "SKF-ART-003",
    });
    for (const key of ["../escape", "/abs", "a/../../b", ""]) {
      await expect(driver.save({ name: "a", local: { key } }, path.join(dir, "x"))).rejects.toMatchObject({
        code: "SKF-ART-006",
      });
    }
    await expect(driver.exists({ name: "a" })).rejects.toMatchObject({ code: "SKF-ART-005" });
  });
});

describe("raw driver", () => {
  it("writes raw.data on load and cannot save", async () => {
    const driver = createRawDriver();
    const art = { name: "r", raw: { data: "inline\ncontent" } };
    expect(await driver.exists(art)).toBe(true);
    expect(await driver.exists({ name: "x" })).toBe(false);
    await driver.load(art, path.join(dir, "deep", "r.txt"));
    expect(await readFile(path.join(dir, "deep", "r.txt"), "utf8")).toBe("inline\ncontent");
    await expect(driver.save(art, "/tmp/x")).rejects.toMatchObject({ code: "SKF-ART-007" });
    await expect(driver.load({ name: "x" }, path.join(dir, "y"))).rejects.toMatchObject({
      code: "SKF-ART-005",
    });
    await driver.delete(art);
  });
});

describe("key-only artifacts", () => {
  it("recognises a storage block holding only its key", () => {
    expect(keyOnlyKey({ name: "a", s3: { key: "my-file" } })).toBe("my-file");
    expect(keyOnlyKey({ name: "a", azure: { blob: "b" } })).toBe("b");
    expect(keyOnlyKey({ name: "a", s3: { key: "k", bucket: "b" } })).toBeUndefined();
    expect(keyOnlyKey({ name: "a", local: { key: "k" } })).toBeUndefined();
    expect(keyOnlyKey({ name: "a" })).toBeUndefined();
  });

  it("serves them from the local repository under that key", async () => {
    const repo = createLocalRepository(dir);
    const file = path.join(dir, "src.txt");
    await writeFile(file, "keyed");
    const art = { name: "a", s3: { key: "my-file" } };
    const driver = repo.driverFor(art);
    await driver.save(art, file);
    expect(await readFile(path.join(dir, "my-file"), "utf8")).toBe("keyed");
    expect(await driver.exists(art)).toBe(true);
    await driver.load(art, path.join(dir, "back.txt"));
    expect(await readFile(path.join(dir, "back.txt"), "utf8")).toBe("keyed");
  });
});
