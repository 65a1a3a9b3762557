import { describe, expect, it } from "vitest";
import type { ArtifactDriver } from "../../../../runtime/interfaces/artifacts.js";
import {
  createRemoteDrivers,
  lazyDriver,
  REMOTE_FIELDS,
} from "../../../../runtime/artifacts/shared/remote.js";

describe("remote drivers", () => {
  it("has one driver per remote location field, named after it", () => {
    const drivers = createRemoteDrivers();
    expect(Object.keys(drivers).sort()).toEqual([...REMOTE_FIELDS].sort());
    for (const f of REMOTE_FIELDS) expect(drivers[f].name).toBe(f);
  });

  it("loads a driver's module on first use and passes the shared options through", async () => {
    const drivers = createRemoteDrivers({ secrets: () => undefined, env: {} });
    // The git driver validates before running anything: a missing Secret shows the options arrived.
    await expect(
      drivers.git.exists({
        name: "g",
        git: { repo: "http://127.0.0.1:1/x.git", usernameSecret: { name: "nope", key: "u" } },
      }),
    ).rejects.toMatchObject({ code: "SKF-ARTD-001" });
    await expect(drivers.git.save({ name: "g", git: { repo: "x" } }, "/nowhere")).rejects.toMatchObject({
      code: "SKF-ARTD-010",
    });
  });

  it("creates the implementation once, and again after a failed creation", async () => {
    let calls = 0;
    const impl: ArtifactDriver = {
      name: "impl",
      save: () => Promise.resolve(),
      load: () => Promise.resolve(),
      exists: () => Promise.resolve(true),
      delete: () => Promise.resolve(),
    };
    const d = lazyDriver("x", () => {
      calls++;
      return calls === 1 ? Promise.reject(new Error("first load fails")) : Promise.resolve(impl);
    });
    await expect(d.exists({ name: "a" })).rejects.toThrow("first load fails");
    expect(await d.exists({ name: "a" })).toBe(true);
    expect(await d.exists({ name: "a" })).toBe(true);
    expect(calls).toBe(2);
  });
});
