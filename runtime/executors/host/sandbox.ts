import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";

/** A host path bound into the sandbox. */
export interface Bind {
  mountPath: string;
  hostPath: string;
  readOnly?: boolean;
}

/** A path the template names: an input artifact, an output, a working directory or a volume mount. */
export interface NamedPath {
  path: string;
  /** True when Skiff writes this path before the step runs (input artifacts): a host entry there is hidden. */
  replace: boolean;
}

export interface SandboxLayoutOptions {
  /** The step's own host folder; the sandbox's writable places live under it. */
  stepDir: string;
  /** The host folder the sandbox's `/` is made in (default: `fs` in the step folder). */
  rootDir?: string;
  /** Shared read-write folder (same path inside and outside). */
  workspace?: string;
  /** Host folders bound at a path inside (volumes), by mount path; read-write unless `readOnly`. */
  binds: Bind[];
  namedPaths: NamedPath[];
  /**
   * The step's working directory (its main container's): relative paths the template names (a `kind:
   * Pipeline`'s `artifacts: {dist: dist}`) are relative to it, as a container's are to its working directory.
   * Default `/`.
   */
  cwd?: string;
}

/**
 * Where a step's files are. With bwrap, a sandbox path maps to a per-step host folder; without, paths are
 * the host's own.
 */
export interface SandboxLayout {
  readonly sandboxed: boolean;
  /** bwrap's mount arguments (empty without sandbox). */
  readonly args: readonly string[];
  /** The host path holding what the step sees at `p`. */
  hostPath(p: string): string;
  /** True when writing `hostPath(p)` from outside does not touch the host's own files at `p`. */
  isPrivate(p: string): boolean;
}

/** The host as it is: no sandbox, every path is the host's own. */
export function createHostLayout(options: Pick<SandboxLayoutOptions, "binds" | "cwd">): SandboxLayout {
  const cwd = options.cwd ?? "/";
  return {
    sandboxed: false,
    args: [],
    hostPath: (p) => {
      // Absolute: a relative path would resolve against Skiff's own working directory, not the step's.
      const abs = path.resolve("/", cwd, p);
      const m = findBind(options.binds, abs);
      return m ? path.join(m.hostPath, path.relative(m.mountPath, abs)) : abs;
    },
    isPrivate: (p) => findBind(options.binds, path.resolve("/", cwd, p)) !== undefined,
  };
}

const ROOT_SKIPPED = new Set(["/proc", "/dev", "/tmp"]);

/**
 * Builds a bubblewrap layout (see docs/decisions/0002-host-sandbox.md). The root is a per-step host folder in
 * which every host entry is bound read-only; a folder that must take new entries (the parent of a path the
 * template names) becomes a per-step folder too, with the host's entries bound read-only inside it. New files
 * therefore land in the step's folder, the host's files are read-only, and two steps never see each other's
 * files. `/tmp` and `/var/tmp` are private, the workspace and volumes are bound read-write.
 */
export function createBwrapLayout(
  options: SandboxLayoutOptions,
  host: HostView = new HostView(),
): SandboxLayout {
  const cwd = options.cwd ?? "/";
  const fsRoot = options.rootDir ?? path.join(options.stepDir, "fs");
  const tmpHost = path.join(options.stepDir, "tmp");
  mkdirSync(fsRoot, { recursive: true });
  mkdirSync(tmpHost, { recursive: true });

  const binds: Bind[] = [{ mountPath: "/tmp", hostPath: tmpHost }, ...options.binds];
  // Tools expect a writable /var/tmp as much as /tmp; it is private too.
  if (host.isDirectory("/var/tmp") && !options.binds.some((b) => b.mountPath === "/var/tmp")) {
    binds.push({ mountPath: "/var/tmp", hostPath: path.join(options.stepDir, "var-tmp") });
  }
  if (options.workspace) binds.push({ mountPath: options.workspace, hostPath: options.workspace });
  const bindPaths = new Set(binds.map((b) => b.mountPath));

  const shells = new Set<string>(["/"]);
  const hidden = new Set<string>();
  const named = [...options.namedPaths, ...binds.map((b) => ({ path: b.mountPath, replace: false }))];
  for (const n of named) {
    const abs = path.resolve("/", cwd, n.path);
    if (!bindPaths.has(abs) && findBind(binds, abs)) continue;
    const p = host.canonical(abs);
    for (let a = path.dirname(p); ; a = path.dirname(a)) {
      if (host.isDirectory(a)) {
        for (let s = a; ; s = path.dirname(s)) {
          shells.add(s);
          if (s === "/") break;
        }
        break;
      }
      if (a === "/") break;
    }
    if (n.replace && host.exists(p)) hidden.add(p);
  }

  const args: string[] = [];
  const hostBound = new Set<string>();
  const emitShell = (dir: string): void => {
    const hostDir = dir === "/" ? fsRoot : path.join(fsRoot, dir);
    mkdirSync(hostDir, { recursive: true });
    args.push("--bind", hostDir, dir);
    for (const entry of host.list(dir)) {
      const child = path.join(dir, entry.name);
      if (dir === "/" && ROOT_SKIPPED.has(child)) continue;
      if (bindPaths.has(child) || hidden.has(child)) continue;
      if (shells.has(child)) {
        emitShell(child);
        continue;
      }
      if (entry.link !== undefined) {
        // Made in the shell folder itself: bwrap's --symlink refuses to replace one left by an earlier
        // container of the same step.
        const link = path.join(hostDir, entry.name);
        try {
          symlinkSync(entry.link, link);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") continue;
        }
      } else args.push("--ro-bind", child, child);
      hostBound.add(child);
    }
  };
  emitShell("/");
  args.push("--dev", "/dev", "--proc", "/proc");
  for (const b of [...binds].sort((x, y) => depth(x.mountPath) - depth(y.mountPath))) {
    // A bound host file (a hostPath volume of one file) is left as it is.
    if (!exists(b.hostPath)) mkdirSync(b.hostPath, { recursive: true });
    args.push(b.readOnly ? "--ro-bind" : "--bind", b.hostPath, b.mountPath);
  }

  const hostPath = (p: string): string => {
    const abs = path.resolve("/", cwd, p);
    const b = findBind(binds, abs);
    if (b) return path.join(b.hostPath, path.relative(b.mountPath, abs));
    const c = host.canonical(abs);
    if (c === "/proc" || c.startsWith("/proc/") || c === "/dev" || c.startsWith("/dev/")) return c;
    let shell = c;
    while (!shells.has(shell)) shell = path.dirname(shell);
    if (shell === c) return path.join(fsRoot, c);
    const rel = path.relative(shell, c).split(path.sep);
    const child = path.join(shell, rel[0]!);
    return hostBound.has(child) ? c : path.join(fsRoot, c);
  };
  return {
    sandboxed: true,
    args,
    hostPath,
    isPrivate: (p) => {
      const abs = path.resolve("/", cwd, p);
      if (options.workspace && isWithin(options.workspace, abs)) return false;
      return hostPath(abs) !== abs;
    },
  };
}

/** A host folder's entry as the layout needs it: symlinks with their target. */
interface HostEntry {
  name: string;
  link?: string;
}

/**
 * What layouts read of the host (folder listings, which paths are folders, symlinks resolved), read once and
 * kept: every step of an executor sees the same host, so listing and statting it again per step is waste. An
 * executor replaces its view from time to time so that changes to the host show up.
 */
export class HostView {
  private readonly lists = new Map<string, HostEntry[]>();
  private readonly dirs = new Map<string, boolean>();
  private readonly present = new Map<string, boolean>();
  private readonly canonicals = new Map<string, string>();

  /** The entries of a host folder, sorted by name; vanished or unreadable entries are left out. */
  list(dir: string): HostEntry[] {
    let entries = this.lists.get(dir);
    if (!entries) {
      entries = [];
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        names = [];
      }
      for (const name of names.sort()) {
        try {
          const st = lstatSync(path.join(dir, name));
          entries.push(st.isSymbolicLink() ? { name, link: readlinkSync(path.join(dir, name)) } : { name });
        } catch {
          // vanished or unreadable
        }
      }
      this.lists.set(dir, entries);
    }
    return entries;
  }

  isDirectory(p: string): boolean {
    let d = this.dirs.get(p);
    if (d === undefined) {
      d = isHostDirectory(p);
      this.dirs.set(p, d);
    }
    return d;
  }

  exists(p: string): boolean {
    let e = this.present.get(p);
    if (e === undefined) {
      e = exists(p);
      this.present.set(p, e);
    }
    return e;
  }

  canonical(p: string): string {
    let c = this.canonicals.get(p);
    if (c === undefined) {
      c = canonical(p);
      this.canonicals.set(p, c);
    }
    return c;
  }
}

const probes = new Map<string, boolean>();

/**
 * Whether bwrap can run here (it needs user namespaces or privileges); checked once per binary and process,
 * or again when `fresh` (after the machine was changed to allow it, e.g. a sysctl).
 */
export function probeBwrap(bwrapPath: string, fresh = false): boolean {
  let ok = fresh ? undefined : probes.get(bwrapPath);
  if (ok === undefined) {
    ok = runProbe(bwrapPath);
    probes.set(bwrapPath, ok);
  }
  return ok;
}

function runProbe(bwrapPath: string): boolean {
  try {
    const r = spawnSync(
      bwrapPath,
      [
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-pid",
        "--die-with-parent",
        "true",
      ],
      {
        stdio: "ignore",
        timeout: 10_000,
      },
    );
    return r.status === 0;
  } catch {
    return false;
  }
}

/** Finds `bwrap` on the PATH. */
export function findBwrap(envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(":")) {
    if (!dir) continue;
    const p = path.join(dir, "bwrap");
    try {
      if (lstatSync(p).isFile() || lstatSync(p).isSymbolicLink()) return p;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function findBind<T extends { mountPath: string }>(binds: T[], p: string): T | undefined {
  let best: T | undefined;
  for (const b of binds) {
    if (isWithin(b.mountPath, p) && (!best || b.mountPath.length > best.mountPath.length)) best = b;
  }
  return best;
}

/** Whether `p` is `dir` or inside it (both absolute). */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function depth(p: string): number {
  return p.split("/").filter(Boolean).length;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isHostDirectory(p: string): boolean {
  try {
    const st = lstatSync(p);
    return st.isDirectory();
  } catch {
    return false;
  }
}

/**
 * An absolute normalised path whose existing host prefix has its symlinks resolved, so `/bin/x` (with
 * `/bin -> usr/bin`) is handled as `/usr/bin/x`.
 */
function canonical(p: string): string {
  const abs = path.resolve("/", p);
  let prefix = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(prefix);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch {
      if (prefix === "/") return abs;
      rest.push(path.basename(prefix));
      prefix = path.dirname(prefix);
    }
  }
}
