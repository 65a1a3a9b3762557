import { describe, expect, it } from "vitest";
import { openRunStore } from "../../../src/run/store.js";

describe("openRunStore", () => {
  it("a store folder that cannot be created is a coded error naming it", async () => {
    const opened = openRunStore({ stateDir: "/proc/skiff-no-such/state" });
    await expect(opened).rejects.toMatchObject({
      code: "SKF-RUN-015",
      message: expect.stringContaining("/proc/skiff-no-such/state/store") as string,
    });
  });

  it("a store folder under a file is a coded error naming it", async () => {
    const opened = openRunStore({ stateDir: "/etc/hostname/state" });
    await expect(opened).rejects.toMatchObject({ code: "SKF-RUN-015" });
  });
});
