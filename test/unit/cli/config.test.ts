import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultStateDir, loadConfig } from "../../../src/config/index.js";
import { readParameters } from "../../../src/cli/commands/run.js";
import { storeLocation } from "../../../src/run/store.js";
import { SkiffError } from "../../../runtime/errors/index.js";

const dir = mkdtempSync(join(tmpdir(), "skiff-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function rejection(p: Promise<unknown>): Promise<SkiffError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    return e as SkiffError;
  }
  throw new Error("expected a rejection");
}

describe("config file", () => {
  it("reads images with host paths resolved against the file's folder", async () => {
    const c = await loadConfig(
      file(
        "ok.yaml",
        "executor: host\nhost:\n  sandbox: none\nimages:\n  argosay:\n    entrypoint: [/argosay]\n    host:\n      path: [bin]\n",
      ),
    );
    expect(c.executor).toBe("host");
    expect(c.host.sandbox).toBe("none");
    expect(c.images.argosay?.host?.path).toEqual([join(dir, "bin")]);
  });

  it("reports bad fields with their line and code", async () => {
    const e = await rejection(loadConfig(file("bad.yaml", "host:\n  sandbox: none\nexecutor: podman\n")));
    expect(e.code).toBe("SKF-CFG-002");
    expect(e.position).toMatchObject({ line: 3 });
    expect(e.message).toMatch(/executor must be one of/);
    const u = await rejection(loadConfig(file("unknown.yaml", "foo: 1\n")));
    expect(u.message).toMatch(/unknown config field "foo"/);
    const m = await rejection(loadConfig(file("missing.yaml", "").replace("missing", "absent")));
    expect(m.code).toBe("SKF-CFG-001");
    const y = await rejection(loadConfig(file("yaml.yaml", "a: [1\n")));
    expect(y.code).toBe("SKF-CFG-002");
  });

  it("names the store: SKIFF_STORE, else the config's store, else <stateDir>/store", async () => {
    const folder = await loadConfig(file("store-dir.yaml", "stateDir: state\nstore: runs\n"), {});
    expect(folder.store).toBe(join(dir, "runs"));
    expect(storeLocation(folder, {})).toBe(join(dir, "runs"));
    const url = "postgres://u:p@db:5432/skiff";
    const pg = await loadConfig(file("store-pg.yaml", `store: ${url}\n`), {});
    expect(storeLocation(pg, {})).toBe(url);
    expect(storeLocation(pg, { SKIFF_STORE: "/elsewhere" })).toBe("/elsewhere");
    const none = await loadConfig(file("store-none.yaml", "stateDir: s\n"), {});
    expect(storeLocation(none, {})).toBe(join(dir, "s", "store"));
    const bad = await rejection(loadConfig(file("store-bad.yaml", "executor: host\nstore: [a]\n"), {}));
    expect(bad.code).toBe("SKF-CFG-002");
    expect(bad.position?.line).toBe(2);
  });

  it("puts state under SKIFF_STATE_DIR, else XDG_STATE_HOME", () => {
    expect(defaultStateDir({ SKIFF_STATE_DIR: "/x/y" })).toBe("/x/y");
    expect(defaultStateDir({ XDG_STATE_HOME: "/s" })).toBe("/s/skiff");
  });
});

describe("parameters", () => {
  it("merges a parameter file and -p pairs, the pairs winning", async () => {
    const p = file("params.yaml", "message: from file\ncount: 3\nlist: [a, b]\n");
    expect(await readParameters(["message=from flag", "empty=", "eq=a=b"], p)).toEqual({
      message: "from flag",
      count: "3",
      list: '["a","b"]',
      empty: "",
      eq: "a=b",
    });
  });

  it("rejects malformed pairs and files", async () => {
    expect((await rejection(readParameters(["novalue"], undefined))).code).toBe("SKF-CLI-001");
    expect((await rejection(readParameters([], file("list.yaml", "- a\n")))).code).toBe("SKF-CLI-001");
    expect((await rejection(readParameters([], join(dir, "nope.yaml")))).code).toBe("SKF-CLI-001");
  });
});
