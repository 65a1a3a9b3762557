import { accessSync, constants as fsConstants, statfsSync } from "node:fs";
import { createHash } from "node:crypto";
import { homedir, tmpdir, userInfo } from "node:os";
import path from "node:path";
import { SkiffError } from "../../errors/index.js";
import { SystemClock, type Clock } from "../../interfaces/clock.js";
import type { Executor } from "../../interfaces/executor.js";
import { EXEC_CODES, type ImagesConfig } from "../shared/index.js";
import { DEFAULT_INHERITED_ENV, HostExecutor, type RecordedWorkflow } from "./host.js";
import { findBwrap, probeBwrap } from "./sandbox.js";

export interface HostExecutorOptions {
  /**
   * `auto` (default): sandbox each step with bubblewrap when it is installed and works; `bwrap`: require it;
   * `none`: run directly on the host.
   */
  sandbox?: "auto" | "bwrap" | "none";
  /** Argo's controller `images:` setting, with Skiff's `host` extension per image. */
  images?: ImagesConfig;
  /** Where per-step folders are created (default: the OS temp folder). */
  workDir?: string;
  /** bwrap binary (default: found on PATH). */
  bwrapPath?: string;
  clock?: Clock;
  /** Time between SIGTERM and SIGKILL when a step is killed (default 10 s). */
  killGracePeriodMs?: number;
  /** Host environment variables passed to steps (default: PATH, HOME, USER, LANG, TZ and a few more). */
  inheritEnv?: string[];
  /** Longest wait between two readiness probes of a daemon (default 200 ms). */
  readinessPollMs?: number;
  /**
   * Where the executor's warnings go (`SKF-EXEC-013`: steps run without a sandbox); default
   * `process.emitWarning`, which Node prints on stderr.
   */
  warn?: (code: string, message: string) => void;
  /** Keep per-step folders after steps end (for debugging); `cleanup()` still removes them. */
  keepStepDirs?: boolean;
  /**
   * Host folders steps may write in the sandbox, e.g. tool caches (`~/.npm`, `~/.cache/pip`); a leading `~` is
   * the host's home. Everything else of the host stays read-only.
   */
  writablePaths?: string[];
  /**
   * Where existing `persistentVolumeClaim`s (claims the workflow did not create) keep their contents across
   * workflows, one folder per claim (default: `volumes` beside `workDir`, or `skiff-volumes` in the OS temp folder).
   */
  volumesDir?: string;
  /**
   * Where each sandbox's root folder is made: the folders, symlinks and mount points bwrap needs, and the files
   * a step writes outside `/tmp`, volumes and the workspace. Default: `/dev/shm` when it is a writable tmpfs of
   * at least 1 GiB (those small files are then cheap to make and remove), else the step's folder. `false`:
   * always the step's folder.
   */
  layoutDir?: string | false;
  /** PEM certificates (one or more) that HTTP steps trust besides the system's roots (a company proxy, a mirror). */
  extraCACerts?: string;
  /**
   * Where steps' records (their output files and exit status, kept so that a later controller can re-attach)
   * are made, one folder per workflow and step. Default: a folder in `/dev/shm` named after `workDir` when it
   * is a writable tmpfs of at least 1 GiB (creating and removing a few files per step there costs a tenth of
   * what it costs on disk; they are lost at reboot, when the steps are too), else `records` in `workDir`.
   * Executors with the same `workDir` must get the same folder.
   */
  recordsDir?: string;
  /**
   * Whether a workflow may still be resumed (it is stored and not completed): its records, left by a killed
   * run whose step supervisor is gone too, are then kept for `resume`; otherwise the next executor removes
   * them. Unset: records of killed runs are kept.
   */
  resumable?: (workflow: RecordedWorkflow) => Promise<boolean>;
}

/**
 * Images the host executor knows without configuration: Argo examples run `python` in `python:*` images, which
 * on most hosts is `python3`. Entries in `options.images` win.
 */
export const DEFAULT_HOST_IMAGES: ImagesConfig = {
  python: { host: { commands: { python: "python3" } } },
};

/**
 * Creates the host executor: each leaf step runs as processes on this machine, sandboxed by bubblewrap
 * when available. Throws SKF-EXEC-004 when `sandbox: "bwrap"` is asked for and bwrap cannot run.
 */
export function createHostExecutor(
  options: HostExecutorOptions = {},
): Executor & { readonly sandboxed: boolean } {
  const mode = options.sandbox ?? "auto";
  let bwrapPath: string | undefined;
  if (mode !== "none") {
    const candidate = options.bwrapPath ?? findBwrap();
    if (candidate && probeBwrap(candidate)) bwrapPath = candidate;
    else if (mode === "bwrap") {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-004"],
        candidate
          ? `bubblewrap at ${candidate} cannot create a sandbox on this machine`
          : "bubblewrap (bwrap) is not installed",
      );
    }
  }
  const workDir = options.workDir ?? tmpdir();
  return new HostExecutor({
    images: { ...DEFAULT_HOST_IMAGES, ...options.images },
    bwrapPath,
    workDir,
    volumesDir: path.resolve(
      options.volumesDir ??
        (options.workDir
          ? path.join(options.workDir, "..", "volumes")
          : path.join(tmpdir(), "skiff-volumes")),
    ),
    clock: options.clock ?? new SystemClock(),
    killGracePeriodMs: options.killGracePeriodMs ?? 10_000,
    inheritEnv: options.inheritEnv ?? DEFAULT_INHERITED_ENV,
    readinessPollMs: options.readinessPollMs ?? 200,
    warn: options.warn ?? ((code, message) => process.emitWarning(message, { code })),
    keepStepDirs: options.keepStepDirs ?? false,
    ...(options.extraCACerts ? { extraCACerts: options.extraCACerts } : {}),
    ...layoutDirOf(options, bwrapPath),
    recordsDir: path.resolve(
      options.recordsDir ??
        (usableTmpfs()
          ? path.join(
              SHM,
              `skiff-records-${uid()}`,
              createHash("sha256").update(path.resolve(workDir)).digest("hex").slice(0, 16),
            )
          : path.join(workDir, "records")),
    ),
    ...(options.resumable ? { resumable: options.resumable } : {}),
    writablePaths: (options.writablePaths ?? []).map((p) => path.resolve(p.replace(/^~(?=$|\/)/, homedir()))),
  });
}

/** The default layout folder: a tmpfs big enough that a step's stray files do not fill it. */
const SHM = "/dev/shm";
const MIN_LAYOUT_TMPFS_BYTES = 2 ** 30;
const TMPFS_MAGIC = 0x01021994;

function layoutDirOf(options: HostExecutorOptions, bwrapPath: string | undefined): { layoutDir?: string } {
  if (!bwrapPath || options.layoutDir === false) return {};
  if (options.layoutDir) return { layoutDir: path.resolve(options.layoutDir) };
  return usableTmpfs() ? { layoutDir: SHM } : {};
}

function usableTmpfs(): boolean {
  try {
    const st = statfsSync(SHM);
    accessSync(SHM, fsConstants.W_OK);
    return st.type === TMPFS_MAGIC && st.bavail * st.bsize >= MIN_LAYOUT_TMPFS_BYTES;
  } catch {
    return false; // no usable /dev/shm
  }
}

/** The user's ID, so that users sharing /dev/shm do not share a records folder. */
function uid(): number | string {
  return process.getuid?.() ?? userInfo().username;
}

export { HostExecutor };
export type { RecordedWorkflow };

/**
 * Whether the host executor's sandbox can start here: the `bwrap` found on `PATH` (if any) and the result of
 * a fresh probe. For doors that prepare a machine for it (the GitHub Action on a hosted runner).
 */
export function bwrapStatus(envPath?: string): { bwrapPath?: string; usable: boolean } {
  const bwrapPath = findBwrap(envPath);
  if (!bwrapPath) return { usable: false };
  return { bwrapPath, usable: probeBwrap(bwrapPath, true) };
}
export type { HostImageConfig, ImageConfig, ImagesConfig } from "../shared/index.js";
