import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostSandboxStatus } from "../run/executors.js";

/** The Ubuntu 24.04 setting that keeps unprivileged programs (bwrap among them) from making user namespaces. */
export const APPARMOR_USERNS = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";

/** What {@link prepareRunnerSandbox} uses of the machine; replaced in tests. */
export interface SandboxMachine {
  /** The sandbox's state, probed afresh on every call. */
  status(): { bwrapPath?: string; usable: boolean };
  /** Runs a command; true when it exited 0. */
  run(argv: string[]): boolean;
  /** A file's content, or undefined. */
  read(file: string): string | undefined;
}

const realMachine: SandboxMachine = {
  status: () => hostSandboxStatus(),
  run: (argv) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore", timeout: 180_000 });
    return r.status === 0;
  },
  read: (file) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  },
};

/** What the action did for the sandbox, for the job log. */
export interface SandboxPreparation {
  usable: boolean;
  /** Lines for the job log: what was changed, or why the steps run without a sandbox. */
  notes: string[];
}

/**
 * Makes the host executor's bubblewrap sandbox available on a GitHub-hosted Linux runner, so that steps run
 * in it by default (docs/github-action.md, "Sandbox"). Hosted runners are throw-away VMs with password-less
 * sudo: when `bwrap` is missing it is installed (`apt-get install bubblewrap`), and when Ubuntu 24.04's
 * AppArmor setting forbids it user namespaces, the setting is turned off for the VM. Self-hosted runners are
 * never changed: the notes say what to set up. When the sandbox still cannot start, the host executor runs
 * steps without it and says so (`SKF-EXEC-013`); with `sandbox: none` in the config nothing is done.
 */
export function prepareRunnerSandbox(
  env: NodeJS.ProcessEnv,
  sandbox: "auto" | "bwrap" | "none",
  machine: SandboxMachine = realMachine,
): SandboxPreparation {
  if (env.RUNNER_OS !== "Linux" || sandbox === "none") return { usable: false, notes: [] };
  let status = machine.status();
  if (status.usable)
    return { usable: true, notes: [`Steps run in the bubblewrap sandbox (${status.bwrapPath})`] };
  const notes: string[] = [];
  const hosted = env.RUNNER_ENVIRONMENT === "github-hosted";
  const restricted = machine.read(APPARMOR_USERNS)?.trim() === "1";
  if (!hosted) {
    notes.push(
      status.bwrapPath
        ? `bubblewrap (${status.bwrapPath}) cannot start on this runner` +
            (restricted
              ? ": AppArmor forbids it user namespaces; run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` once on the runner"
              : ": user namespaces are not available to this user")
        : "bubblewrap is not installed on this runner: install it (`sudo apt-get install bubblewrap`) for a sandbox",
    );
    return { usable: false, notes };
  }
  if (!status.bwrapPath) {
    const install = ["sudo", "-n", "apt-get", "install", "-y", "-q", "--no-install-recommends", "bubblewrap"];
    // The runner image's package lists may be too old for the mirror: refresh them once when needed.
    const installed =
      machine.run(install) ||
      (machine.run(["sudo", "-n", "apt-get", "update", "-q"]) && machine.run(install));
    notes.push(
      installed ? "Installed bubblewrap for the sandbox" : "Could not install bubblewrap (apt-get failed)",
    );
    status = machine.status();
  }
  if (status.bwrapPath && !status.usable && restricted) {
    const ok = machine.run(["sudo", "-n", "sysctl", "-w", "kernel.apparmor_restrict_unprivileged_userns=0"]);
    notes.push(
      ok
        ? "Allowed user namespaces for the sandbox (sysctl kernel.apparmor_restrict_unprivileged_userns=0)"
        : "Could not allow user namespaces (sudo sysctl failed)",
    );
    status = machine.status();
  }
  if (status.usable) notes.push(`Steps run in the bubblewrap sandbox (${status.bwrapPath})`);
  else notes.push("The bubblewrap sandbox cannot start on this runner: steps run without it (SKF-EXEC-013)");
  return { usable: status.usable, notes };
}
