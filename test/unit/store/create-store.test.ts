import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { createStore, EmbeddedStore } from "../../../runtime/store/index.js";

describe("createStore", () => {
  it("opens the embedded store for a path and for a file: URL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "skiff-create-"));
    try {
      const byPath = await createStore(join(dir, "a"));
      expect(byPath).toBeInstanceOf(EmbeddedStore);
      await byPath.close();
      const byUrl = await createStore(pathToFileURL(join(dir, "b")).href);
      expect((byUrl as EmbeddedStore).dir).toBe(join(dir, "b"));
      await byUrl.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects URLs it does not know with a coded error", async () => {
    const e = await createStore("mysql://db/skiff").catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).code).toBe("SKF-STORE-006");
    expect(((await createStore("").catch((err: unknown) => err)) as SkiffError).code).toBe("SKF-STORE-006");
  });
});
