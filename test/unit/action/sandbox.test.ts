import { describe, expect, it } from "vitest";
import { APPARMOR_USERNS, prepareRunnerSandbox, type SandboxMachine } from "../../../src/action/sandbox.js";
import { hostSandboxStatus } from "../../../src/run/executors.js";

/**
 * A runner as the action sees it: whether bwrap is installed, whether Ubuntu 24.04's AppArmor setting
 * forbids it user namespaces, and which commands succeed. Installing and the sysctl change the machine.
 */
function runner(state: { installed: boolean; restricted: boolean; sudo: boolean }) {
  const ran: string[] = [];
  const machine: SandboxMachine = {
    status: () =>
      state.installed ? { bwrapPath: "/usr/bin/bwrap", usable: !state.restricted } : { usable: false },
    run: (argv) => {
      ran.push(argv.join(" "));
      if (!state.sudo) return false;
      if (argv.includes("install")) state.installed = true;
      if (argv.includes("sysctl")) state.restricted = false;
      return true;
    },
    read: (file) => (file === APPARMOR_USERNS ? (state.restricted ? "1\n" : "0\n") : undefined),
  };
  return { machine, ran };
}

const HOSTED = { RUNNER_OS: "Linux", RUNNER_ENVIRONMENT: "github-hosted" };

describe("the action's sandbox on GitHub's Linux runners (issue 12, item 8)", () => {
  it("on an Ubuntu 24.04 hosted runner: installs bwrap and allows user namespaces, then uses the sandbox", () => {
    const { machine, ran } = runner({ installed: false, restricted: true, sudo: true });
    const r = prepareRunnerSandbox(HOSTED, "auto", machine);
    expect(r.usable).toBe(true);
    expect(ran).toEqual([
      "sudo -n apt-get install -y -q --no-install-recommends bubblewrap",
      "sudo -n sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
    ]);
    expect(r.notes.at(-1)).toContain("Steps run in the bubblewrap sandbox");
  });

  it("changes nothing when the sandbox already starts", () => {
    const { machine, ran } = runner({ installed: true, restricted: false, sudo: true });
    expect(prepareRunnerSandbox(HOSTED, "auto", machine).usable).toBe(true);
    expect(ran).toEqual([]);
  });

  it("falls back (SKF-EXEC-013) when sudo is refused", () => {
    const { machine } = runner({ installed: true, restricted: true, sudo: false });
    const r = prepareRunnerSandbox(HOSTED, "auto", machine);
    expect(r.usable).toBe(false);
    expect(r.notes.join("\n")).toContain("Could not allow user namespaces");
    expect(r.notes.at(-1)).toContain("SKF-EXEC-013");
  });

  it("never changes a self-hosted runner, and says what it needs", () => {
    const { machine, ran } = runner({ installed: true, restricted: true, sudo: true });
    const r = prepareRunnerSandbox(
      { RUNNER_OS: "Linux", RUNNER_ENVIRONMENT: "self-hosted" },
      "auto",
      machine,
    );
    expect(r.usable).toBe(false);
    expect(ran).toEqual([]);
    expect(r.notes[0]).toContain("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
    const missing = runner({ installed: false, restricted: false, sudo: true });
    expect(prepareRunnerSandbox({ RUNNER_OS: "Linux" }, "auto", missing.machine).notes[0]).toContain(
      "apt-get install bubblewrap",
    );
  });

  it("does nothing off Linux or with sandbox: none", () => {
    const { machine, ran } = runner({ installed: false, restricted: true, sudo: true });
    expect(prepareRunnerSandbox({ ...HOSTED, RUNNER_OS: "macOS" }, "auto", machine).notes).toEqual([]);
    expect(prepareRunnerSandbox(HOSTED, "none", machine).notes).toEqual([]);
    expect(ran).toEqual([]);
  });

  it("probes the real machine afresh", () => {
    const status = hostSandboxStatus();
    // Whatever this machine has: a usable sandbox needs bwrap on PATH.
    if (status.usable) expect(status.bwrapPath).toBeDefined();
    const r = prepareRunnerSandbox({ RUNNER_OS: "Linux", RUNNER_ENVIRONMENT: "self-hosted" }, "auto");
    expect(r.usable).toBe(status.usable);
  });
});
