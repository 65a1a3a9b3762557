import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "skiff-folder-keys-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A folder of files in the scratch area, as a step's output would be. */
async function folder(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(dir, "scratch", name);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}

describe("keys ending in '/' (folders of objects, as Argo's map-reduce example saves them)", () => {
  const repoDir = () => path.join(dir, "repo");

  it("saves a folder's files under the key, each readable by its own key, and the folder by the prefix", async () => {
    const repo = createLocalRepository(repoDir());
    const parts = await folder("out", { "0.json": '{"foo":1}', "1.json": '{"foo":2}', "sub/x.txt": "x" });
    const out = { name: "parts", s3: { key: "wf/parts/" } };
    await repo.driverFor(out).save(out, parts);

    const one = { name: "part", s3: { key: "wf/parts/1.json" } };
    const loaded = path.join(dir, "in", "part.json");
    await repo.driverFor(one).load(one, loaded);
    expect(await readFile(loaded, "utf8")).toBe('{"foo":2}');

    const all = { name: "all", s3: { key: "wf/parts" } };
    const whole = path.join(dir, "in", "all");
    await repo.driverFor(all).load(all, whole);
    expect((await readdir(whole)).sort()).toEqual(["0.json", "1.json", "sub"]);
    expect(await readFile(path.join(whole, "sub", "x.txt"), "utf8")).toBe("x");
  });

  it("adds to what the prefix holds and replaces files of the same name, leaving no partial files", async () => {
    const repo = createLocalRepository(repoDir());
    const out = { name: "r", local: { key: "wf/results/" } };
    await repo.driverFor(out).save(out, await folder("a", { "0.json": "old", "keep.json": "kept" }));
    await repo.driverFor(out).save(out, await folder("b", { "0.json": "new", "1.json": "one" }));
    const stored = path.join(repoDir(), "wf", "results");
    expect((await readdir(stored)).sort()).toEqual(["0.json", "1.json", "keep.json"]);
    expect(await readFile(path.join(stored, "0.json"), "utf8")).toBe("new");
  });

  it("saves a single file under the folder key by its base name", async () => {
    const repo = createLocalRepository(repoDir());
    const file = path.join(await folder("f", { "total.json": "7" }), "total.json");
    const out = { name: "t", local: { key: "wf/totals/" } };
    await repo.driverFor(out).save(out, file);
    expect(await readFile(path.join(repoDir(), "wf", "totals", "total.json"), "utf8")).toBe("7");
    expect(await repo.driverFor(out).exists(out)).toBe(true);
  });

  it("still replaces a whole folder saved under a key without '/'", async () => {
    const repo = createLocalRepository(repoDir());
    const out = { name: "d", local: { key: "wf/dir" } };
    await repo.driverFor(out).save(out, await folder("c", { "a.txt": "a" }));
    await repo.driverFor(out).save(out, await folder("d", { "b.txt": "b" }));
    expect(await readdir(path.join(repoDir(), "wf", "dir"))).toEqual(["b.txt"]);
  });
});
