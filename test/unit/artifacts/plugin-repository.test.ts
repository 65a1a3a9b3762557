import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import type { Artifact } from "../../../runtime/spec/types.js";

describe("artifact plugins served by the local repository", () => {
  it("stores a configured plugin's artifact under its key", async () => {
    const root = mkdtempSync(join(tmpdir(), "skiff-plugin-repo-"));
    const repo = createLocalRepository(root, { localPlugins: ["test"] });
    const art: Artifact = { name: "hello", plugin: { name: "test", configuration: "bucket: b", key: "hi" } };
    const src = join(root, "..", `src-${Date.now()}.txt`);
    writeFileSync(src, "hello world");
    const driver = repo.driverFor(art);
    await driver.save(art, src);
    expect(await driver.exists(art)).toBe(true);
    const out = join(root, "..", `out-${Date.now()}`);
    mkdirSync(out, { recursive: true });
    await driver.load(art, join(out, "f"));
    expect(readFileSync(join(out, "f"), "utf8")).toBe("hello world");
  });

  it("refuses a plugin that is not configured, with a hint", () => {
    const repo = createLocalRepository(mkdtempSync(join(tmpdir(), "skiff-plugin-repo-")));
    expect(() => repo.driverFor({ name: "x", plugin: { name: "other", key: "k" } })).toThrow(
      expect.objectContaining({ code: "SKF-ART-004", hint: expect.stringContaining("artifactDrivers") }),
    );
  });
});
