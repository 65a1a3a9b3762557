import { describe, expect, it } from "vitest";
import { createHostExecutor } from "../../../runtime/executors/host/index.js";

describe("createHostExecutor", () => {
  it("refuses sandbox 'bwrap' when bwrap cannot run, with a coded error", () => {
    expect(() => createHostExecutor({ sandbox: "bwrap", bwrapPath: "/nonexistent/bwrap" })).toThrow(
      expect.objectContaining({ code: "SKF-EXEC-004", hint: expect.stringContaining("bubblewrap") }),
    );
  });

  it("falls back to running on the host in 'auto' mode, and never sandboxes in 'none' mode", () => {
    expect(createHostExecutor({ sandbox: "auto", bwrapPath: "/nonexistent/bwrap" }).sandboxed).toBe(false);
    expect(createHostExecutor({ sandbox: "none" }).sandboxed).toBe(false);
  });

  it("declares what it can run", () => {
    const ex = createHostExecutor({ sandbox: "none" });
    expect(ex.name).toBe("host");
    expect(ex.capabilities).toEqual({ resource: false, containers: false });
  });

  it("finds a step's records from the work folder alone: executors of one work folder share them, others do not", () => {
    const recordsOf = (workDir: string) =>
      (createHostExecutor({ sandbox: "none", workDir }) as unknown as { settings: { recordsDir: string } })
        .settings.recordsDir;
    expect(recordsOf("/var/lib/skiff/steps")).toBe(recordsOf("/var/lib/skiff/steps"));
    expect(recordsOf("/var/lib/skiff/steps")).not.toBe(recordsOf("/var/lib/other/steps"));
    expect(
      (
        createHostExecutor({ sandbox: "none", recordsDir: "/srv/r" }) as unknown as {
          settings: { recordsDir: string };
        }
      ).settings.recordsDir,
    ).toBe("/srv/r");
  });
});
