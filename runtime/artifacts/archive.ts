import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import * as tar from "tar";
import { unzip, zip, type Unzipped, type Zippable } from "fflate";
import type { Artifact } from "../spec/types.js";
import { SkiffError } from "../errors/index.js";
import { ART_CODES } from "./codes.js";

/** How an output artifact is stored: Argo's `archive` strategy (tar+gzip unless told otherwise). */
export type ArchiveFormat = "tgz" | "zip" | "none";

/** Default bound on what one artifact may unpack to (bytes). */
export const DEFAULT_MAX_UNPACKED_BYTES = 10 * 1024 ** 3;

export interface UnpackOptions {
  /** Total bytes the entries may hold; more is refused before anything is written. */
  maxBytes?: number;
}

export function archiveFormatOf(artifact: Artifact): ArchiveFormat {
  if (artifact.archive?.none) return "none";
  if (artifact.archive?.zip) return "zip";
  return "tgz";
}

/** The file name an output artifact is stored under (Argo's default key suffix). */
export function archiveFileName(artifact: Artifact, sourcePath: string): string {
  const f = archiveFormatOf(artifact);
  if (f === "tgz") return `${artifact.name}.tgz`;
  if (f === "zip") return `${artifact.name}.zip`;
  return path.basename(sourcePath);
}

/**
 * Packs `src` (file or folder) as tar+gzip at `dest`. The archive's single top entry is `src`'s base name, as
 * Argo's executor does, so unpacking gives back the same file or folder.
 */
export async function packTgz(src: string, dest: string, compressionLevel?: number): Promise<void> {
  const partial = partialName(dest);
  try {
    await tar.c(
      {
        gzip: compressionLevel === undefined ? true : { level: compressionLevel },
        cwd: path.dirname(src),
        file: partial,
        portable: true,
      },
      [path.basename(src)],
    );
    await rename(partial, dest);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}

/** Packs `src` (file or folder) as zip at `dest`, the top entry being `src`'s base name. */
export async function packZip(src: string, dest: string): Promise<void> {
  const files: Zippable = {};
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    if (st.isDirectory()) {
      const names = await readdir(abs);
      if (names.length === 0) files[`${rel}/`] = new Uint8Array();
      for (const n of names.sort()) await walk(path.join(abs, n), `${rel}/${n}`);
    } else if (st.isFile()) {
      files[rel] = new Uint8Array(await readFile(abs));
    }
  };
  await walk(src, path.basename(src));
  const data = await new Promise<Uint8Array>((resolve, reject) =>
    zip(files, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const partial = partialName(dest);
  await writeFile(partial, data);
  await rename(partial, dest);
}

/** What a stored file is, by its first bytes. */
export async function detectFormat(file: string): Promise<"directory" | "tgz" | "zip" | "plain"> {
  const st = await lstat(file);
  if (st.isDirectory()) return "directory";
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
      return (await isTarball(file)) ? "tgz" : "plain";
    }
    if (bytesRead === 4 && buf.readUInt32LE(0) === 0x04034b50) return "zip";
    return "plain";
  } finally {
    await fh.close();
  }
}

async function isTarball(file: string): Promise<boolean> {
  try {
    let entries = 0;
    await new Promise<void>((resolve, reject) => {
      const p = new tar.Parser({ onReadEntry: (e) => (entries++, e.resume()) });
      p.on("error", reject);
      p.on("end", resolve);
      p.on("close", resolve);
      createReadStream(file).on("error", reject).pipe(p);
    });
    return entries > 0;
  } catch {
    return false;
  }
}

/**
 * Checks that an entry name stays inside the target: no absolute path, no `..`. Throws SKF-ART-001.
 */
export function assertSafeEntryName(name: string): void {
  const norm = name.replace(/\\/g, "/");
  if (norm.startsWith("/") || /^[a-zA-Z]:/.test(norm) || norm.split("/").includes("..")) {
    throw new SkiffError(
      ART_CODES["SKF-ART-001"],
      `archive entry '${name}' would be written outside the target`,
    );
  }
}

/** How many links one path may pass through before it is refused (Linux's ELOOP bound). */
const MAX_LINK_HOPS = 40;

/** A path inside the extraction root as its components (`a/./b/` is `["a", "b"]`). */
function components(p: string): string[] {
  return p
    .replace(/\\/g, "/")
    .split("/")
    .filter((c) => c !== "" && c !== ".");
}

/**
 * Resolves `start` (components relative to the extraction root) as the filesystem will once every link of
 * the archive exists: each link met on the way is replaced by its target, and `..` climbs from where the
 * link really points, not from its name. Undefined when the path leaves the root, is absolute through a
 * link, or passes through more than MAX_LINK_HOPS links (a loop).
 */
function resolveInTree(start: readonly string[], links: ReadonlyMap<string, string>): string[] | undefined {
  const pending = [...start];
  const out: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(c);
    const target = links.get(out.join("/"));
    if (target === undefined) continue;
    if (++hops > MAX_LINK_HOPS || target.startsWith("/")) return undefined;
    out.pop();
    pending.unshift(...target.replace(/\\/g, "/").split("/"));
  }
  return out;
}

/** The entries of a tarball that matter for where things land: its links, and every entry's name. */
interface TreeListing {
  /** Symbolic links by normalised name: their target as written. */
  symlinks: Map<string, string>;
  /** Hard links by normalised name: their target, relative to the root. */
  hardLinks: Map<string, string>;
  names: string[];
}

/**
 * Checks every link and entry against the whole archive, so a chain of links that are each harmless alone
 * (`d/l0 -> ..`, `l1 -> l0/..`, `etc -> l1/../etc`) cannot reach outside the root, and no entry is written
 * through a link that leads out. Throws SKF-ART-001 naming the first offending entry.
 */
function assertTreeStaysInside(listing: TreeListing): void {
  const outside = (name: string, target: string): SkiffError =>
    new SkiffError(
      ART_CODES["SKF-ART-001"],
      `archive link '${name}' points outside the target (${target}), through the archive's other links`,
    );
  for (const [name, target] of listing.symlinks) {
    if (target.startsWith("/")) throw outside(name, target);
    const parent = components(name).slice(0, -1);
    if (!resolveInTree([...parent, ...target.replace(/\\/g, "/").split("/")], listing.symlinks))
      throw outside(name, target);
  }
  for (const [name, target] of listing.hardLinks) {
    if (!resolveInTree(target.replace(/\\/g, "/").split("/"), listing.symlinks)) throw outside(name, target);
  }
  for (const name of listing.names) {
    if (!resolveInTree(components(name).slice(0, -1), listing.symlinks)) {
      throw new SkiffError(
        ART_CODES["SKF-ART-001"],
        `archive entry '${name}' would be written through a link that leads outside the target`,
      );
    }
  }
}

/** Checks that a link entry's target resolves inside the extraction root on its own. Throws SKF-ART-001. */
function assertSafeLink(entryName: string, linkPath: string, hard: boolean): void {
  const base = hard ? "." : path.posix.dirname(entryName.replace(/\\/g, "/"));
  if (path.posix.isAbsolute(linkPath)) {
    throw new SkiffError(
      ART_CODES["SKF-ART-001"],
      `archive link '${entryName}' points outside the target (${linkPath})`,
    );
  }
  const resolved = path.posix.normalize(path.posix.join(base, linkPath));
  if (resolved === ".." || resolved.startsWith("../")) {
    throw new SkiffError(
      ART_CODES["SKF-ART-001"],
      `archive link '${entryName}' points outside the target (${linkPath})`,
    );
  }
}

function tooLarge(total: number, max: number): SkiffError {
  return new SkiffError(
    ART_CODES["SKF-ART-002"],
    `archive unpacks to more than ${max} bytes (at least ${total})`,
  );
}

/**
 * Unpacks a tar(.gz) into the empty folder `destDir`. Every entry is checked first (names, links, total size),
 * so nothing is written from an archive that would escape or exceed the bound.
 */
export async function unpackTgz(file: string, destDir: string, options: UnpackOptions = {}): Promise<void> {
  const max = options.maxBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  let total = 0;
  let problem: unknown;
  const listing: TreeListing = { symlinks: new Map(), hardLinks: new Map(), names: [] };
  try {
    await tar.t({
      file,
      onReadEntry: (e) => {
        if (problem) return;
        try {
          assertSafeEntryName(e.path);
          const key = components(e.path).join("/");
          listing.names.push(e.path);
          listing.symlinks.delete(key);
          listing.hardLinks.delete(key);
          if (e.type === "SymbolicLink") {
            assertSafeLink(e.path, e.linkpath ?? "", false);
            listing.symlinks.set(key, e.linkpath ?? "");
          }
          if (e.type === "Link") {
            assertSafeLink(e.path, e.linkpath ?? "", true);
            listing.hardLinks.set(key, e.linkpath ?? "");
          }
          total += e.size ?? 0;
          if (total > max) throw tooLarge(total, max);
        } catch (err) {
          problem = err;
        }
      },
    });
  } catch (e) {
    throw new SkiffError(ART_CODES["SKF-ART-008"], `cannot read archive: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (problem) throw problem;
  assertTreeStaysInside(listing);
  await mkdir(destDir, { recursive: true });
  try {
    await tar.x({ file, cwd: destDir, strict: true, preservePaths: false });
  } catch (e) {
    // node-tar's own refusal of a path through a link: the same escape, so the same code.
    if ((e as { code?: string }).code === "TAR_SYMLINK_ERROR") {
      const entry = (e as { entry?: { path?: string } }).entry?.path ?? "?";
      throw new SkiffError(
        ART_CODES["SKF-ART-001"],
        `archive entry '${entry}' would be made through another link (${(e as Error).message})`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** Unpacks a zip into `destDir` with the same checks as `unpackTgz`. */
export async function unpackZip(file: string, destDir: string, options: UnpackOptions = {}): Promise<void> {
  const max = options.maxBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const data = new Uint8Array(await readFile(file));
  let total = 0;
  let problem: unknown;
  const files = await new Promise<Unzipped>((resolve, reject) =>
    unzip(
      data,
      {
        filter: (f) => {
          try {
            assertSafeEntryName(f.name);
            total += f.originalSize;
            if (total > max) throw tooLarge(total, max);
          } catch (err) {
            problem ??= err;
          }
          return problem === undefined;
        },
      },
      (err, out) =>
        err
          ? reject(
              new SkiffError(ART_CODES["SKF-ART-008"], `cannot read archive: ${err.message}`, { cause: err }),
            )
          : resolve(out),
    ),
  );
  if (problem) throw problem;
  await mkdir(destDir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    const target = path.join(destDir, name);
    if (name.endsWith("/")) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
}

export interface PlaceOptions extends UnpackOptions {
  /** Permission bits for the placed file (Argo's `mode`). */
  mode?: number;
  /** Apply `mode` to everything inside a placed folder (Argo's `recurseMode`). */
  recurseMode?: boolean;
}

/**
 * Puts a loaded artifact at `target` as Argo's executor does: archives are unpacked, and when an archive
 * holds a single top entry that entry becomes `target`; plain files and folders are moved as they are. The
 * result is assembled under a temporary name beside `target` and renamed into place when complete.
 */
export async function placeArtifact(
  loaded: string,
  target: string,
  options: PlaceOptions = {},
): Promise<void> {
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const format = await detectFormat(loaded);
  const tmp = await mkdtemp(path.join(parent, `.${path.basename(target)}.partial-`));
  try {
    let src: string;
    if (format === "tgz" || format === "zip") {
      const out = path.join(tmp, "x");
      if (format === "tgz") await unpackTgz(loaded, out, options);
      else await unpackZip(loaded, out, options);
      const names = await readdir(out);
      src = names.length === 1 ? path.join(out, names[0]!) : out;
    } else {
      src = path.join(tmp, "x");
      await cp(loaded, src, { recursive: true });
    }
    await rm(target, { recursive: true, force: true });
    await rename(src, target);
    if (options.mode !== undefined) await applyMode(target, options.mode, options.recurseMode ?? false);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function applyMode(target: string, mode: number, recurse: boolean): Promise<void> {
  await chmod(target, mode);
  if (!recurse) return;
  const st = await lstat(target);
  if (!st.isDirectory()) return;
  for (const n of await readdir(target)) {
    const p = path.join(target, n);
    const s = await lstat(p);
    if (s.isSymbolicLink()) continue;
    await applyMode(p, mode, true);
  }
}

function partialName(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${randomUUID()}`);
}
