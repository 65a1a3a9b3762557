import { existsSync } from "node:fs";
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  archiveFileName,
  archiveFormatOf,
  assertSafeEntryName,
  detectFormat,
  packTgz,
  packZip,
  placeArtifact,
  unpackTgz,
  unpackZip,
} from "../../../runtime/artifacts/archive.js";

/** A minimal ustar writer, so tests can build archives no well-behaved tool would write. */
function tarEntry(name: string, opts: { type?: string; data?: string; linkname?: string } = {}): Buffer {
  const data = Buffer.from(opts.data ?? "");
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write("        ", 148);
  h.write(opts.type ?? "0", 156);
  if (opts.linkname) h.write(opts.linkname, 157, 100);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}
function tgz(...entries: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "skiff-archive-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("archive formats", () => {
  it("defaults to tgz and names stored files as Argo does", () => {
    expect(archiveFormatOf({ name: "a" })).toBe("tgz");
    expect(archiveFormatOf({ name: "a", archive: { none: {} } })).toBe("none");
    expect(archiveFormatOf({ name: "a", archive: { zip: {} } })).toBe("zip");
    expect(archiveFileName({ name: "a" }, "/tmp/x.txt")).toBe("a.tgz");
    expect(archiveFileName({ name: "a", archive: { zip: {} } }, "/tmp/x.txt")).toBe("a.zip");
    expect(archiveFileName({ name: "a", archive: { none: {} } }, "/tmp/x.txt")).toBe("x.txt");
  });
});

describe("pack and place round trips", () => {
  async function tree(root: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const walk = async (p: string, rel: string): Promise<void> => {
      const st = await lstat(p);
      if (st.isSymbolicLink()) out[rel] = `-> ${await readlink(p)}`;
      else if (st.isDirectory())
        for (const n of await readdir(p)) await walk(path.join(p, n), rel ? `${rel}/${n}` : n);
      else out[rel] = await readFile(p, "utf8");
    };
    await walk(root, "");
    return out;
  }

  it.each(["tgz", "zip"] as const)("gives back a folder through %s", async (format) => {
    const src = path.join(dir, "src");
    await mkdir(path.join(src, "sub"), { recursive: true });
    await writeFile(path.join(src, "a.txt"), "alpha");
    await writeFile(path.join(src, "sub", "b.txt"), "beta");
    const archive = path.join(dir, `out.${format}`);
    if (format === "tgz") await packTgz(src, archive, 9);
    else await packZip(src, archive);
    expect(await detectFormat(archive)).toBe(format);
    const target = path.join(dir, "placed", "here");
    await placeArtifact(archive, target);
    expect(await tree(target)).toEqual({ "a.txt": "alpha", "sub/b.txt": "beta" });
    expect((await readdir(path.dirname(target))).filter((n) => n.includes("partial"))).toEqual([]);
  });

  it("gives back a single file at the target path, with mode applied", async () => {
    const src = path.join(dir, "hello.txt");
    await writeFile(src, "hello\n");
    const archive = path.join(dir, "h.tgz");
    await packTgz(src, archive);
    const target = path.join(dir, "x", "message");
    await placeArtifact(archive, target, { mode: 0o600 });
    expect(await readFile(target, "utf8")).toBe("hello\n");
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it("keeps relative symlinks inside the tree", async () => {
    const src = path.join(dir, "src");
    await mkdir(src);
    await writeFile(path.join(src, "real.txt"), "r");
    await symlink("real.txt", path.join(src, "link.txt"));
    const archive = path.join(dir, "s.tgz");
    await packTgz(src, archive);
    const target = path.join(dir, "t");
    await placeArtifact(archive, target);
    expect(await tree(target)).toEqual({ "real.txt": "r", "link.txt": "-> real.txt" });
  });

  it("places plain files and folders as they are, and replaces what was at the target", async () => {
    const plain = path.join(dir, "plain.bin");
    await writeFile(plain, "not an archive");
    const target = path.join(dir, "t");
    await mkdir(target);
    await writeFile(path.join(target, "old"), "old");
    await placeArtifact(plain, target);
    expect(await readFile(target, "utf8")).toBe("not an archive");
    const folder = path.join(dir, "folder");
    await mkdir(folder);
    await writeFile(path.join(folder, "f"), "f");
    await placeArtifact(folder, path.join(dir, "t2"));
    expect(await readFile(path.join(dir, "t2", "f"), "utf8")).toBe("f");
  });

  it("treats gzip data that is not a tarball as a plain file", async () => {
    const gz = path.join(dir, "data.gz");
    await writeFile(gz, gzipSync(Buffer.from("just text")));
    expect(await detectFormat(gz)).toBe("plain");
  });
});

describe("safe extraction", () => {
  const slips: [string, Buffer][] = [
    ["a parent path", tgz(tarEntry("../evil.txt", { data: "x" }))],
    ["a nested parent path", tgz(tarEntry("ok/../../evil.txt", { data: "x" }))],
    ["an absolute path", tgz(tarEntry("/tmp/skiff-evil-abs.txt", { data: "x" }))],
    ["a symlink pointing out", tgz(tarEntry("link", { type: "2", linkname: "../../etc" }))],
    ["an absolute symlink", tgz(tarEntry("link", { type: "2", linkname: "/etc/passwd" }))],
    ["a hard link pointing out", tgz(tarEntry("hard", { type: "1", linkname: "../outside" }))],
  ];

  it.each(slips)("refuses a tarball with %s and writes nothing", async (_what, bytes) => {
    const archive = path.join(dir, "evil.tgz");
    await writeFile(archive, bytes);
    const dest = path.join(dir, "dest");
    await expect(unpackTgz(archive, dest)).rejects.toMatchObject({ code: "SKF-ART-001" });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(path.join(dir, "evil.txt"))).toBe(false);
    expect(existsSync("/tmp/skiff-evil-abs.txt")).toBe(false);
  });

  it("refuses a chain of links that each stay inside but together lead out", async () => {
    // Lexically `d/l1 -> l0/..` is `d`, but `l0` is the root, so `l1` is the root's parent.
    const chain = [
      tarEntry("d/", { type: "5" }),
      tarEntry("d/l0", { type: "2", linkname: ".." }),
      tarEntry("d/l1", { type: "2", linkname: "l0/.." }),
    ];
    for (const last of [
      tarEntry("etc", { type: "2", linkname: "d/l1/etc" }),
      tarEntry("hard", { type: "1", linkname: "d/l1/etc/hostname" }),
      tarEntry("d/l1/evil.txt", { data: "x" }),
    ]) {
      const archive = path.join(dir, "chain.tgz");
      await writeFile(archive, tgz(...chain, last));
      const dest = path.join(dir, "dest");
      await expect(unpackTgz(archive, dest)).rejects.toMatchObject({ code: "SKF-ART-001" });
      expect(existsSync(dest)).toBe(false);
    }
    expect(existsSync(path.join(dir, "evil.txt"))).toBe(false);
  });

  it("refuses a 25-link chain whose last link reaches the host's /etc", async () => {
    const entries = [tarEntry("d/", { type: "5" }), tarEntry("d/l0", { type: "2", linkname: ".." })];
    for (let i = 1; i <= 24; i++) entries.push(tarEntry(`d/l${i}`, { type: "2", linkname: `l${i - 1}/..` }));
    entries.push(tarEntry("etc", { type: "2", linkname: "d/l24/../etc" }));
    const archive = path.join(dir, "chain.tgz");
    await writeFile(archive, tgz(...entries));
    await expect(unpackTgz(archive, path.join(dir, "dest"))).rejects.toMatchObject({ code: "SKF-ART-001" });
  });

  it("refuses a loop of links", async () => {
    const archive = path.join(dir, "loop.tgz");
    await writeFile(
      archive,
      tgz(tarEntry("a", { type: "2", linkname: "b/x" }), tarEntry("b", { type: "2", linkname: "a/y" })),
    );
    await expect(unpackTgz(archive, path.join(dir, "dest"))).rejects.toMatchObject({ code: "SKF-ART-001" });
  });

  it("keeps chains of links that resolve inside", async () => {
    const archive = path.join(dir, "ok.tgz");
    await writeFile(
      archive,
      tgz(
        tarEntry("c/", { type: "5" }),
        tarEntry("c/f", { data: "inside" }),
        tarEntry("b", { type: "2", linkname: "c" }),
        tarEntry("d/", { type: "5" }),
        tarEntry("d/up", { type: "2", linkname: "../c/f" }),
      ),
    );
    const dest = path.join(dir, "dest");
    await unpackTgz(archive, dest);
    expect(await readFile(path.join(dest, "d", "up"), "utf8")).toBe("inside");
    expect(await readFile(path.join(dest, "b", "f"), "utf8")).toBe("inside");
  });

  it("refuses a zip with a parent path", async () => {
    const archive = path.join(dir, "evil.zip");
    await writeFile(archive, zipSync({ "../evil.txt": new TextEncoder().encode("x") }));
    await expect(unpackZip(archive, path.join(dir, "dest"))).rejects.toMatchObject({ code: "SKF-ART-001" });
    expect(existsSync(path.join(dir, "evil.txt"))).toBe(false);
  });

  it("refuses archives larger than the bound before writing", async () => {
    const big = "x".repeat(4096);
    const archive = path.join(dir, "big.tgz");
    await writeFile(archive, tgz(tarEntry("a.txt", { data: big }), tarEntry("b.txt", { data: big })));
    const dest = path.join(dir, "dest");
    await expect(unpackTgz(archive, dest, { maxBytes: 5000 })).rejects.toMatchObject({ code: "SKF-ART-002" });
    expect(existsSync(dest)).toBe(false);
    await unpackTgz(archive, dest, { maxBytes: 10_000 });
    expect(await readFile(path.join(dest, "b.txt"), "utf8")).toBe(big);
    const zip = path.join(dir, "big.zip");
    await writeFile(zip, zipSync({ "a.txt": new TextEncoder().encode(big) }));
    await expect(unpackZip(zip, path.join(dir, "z"), { maxBytes: 100 })).rejects.toMatchObject({
      code: "SKF-ART-002",
    });
  });

  it("does not leave a half-placed target when unpacking fails", async () => {
    const archive = path.join(dir, "evil.tgz");
    await writeFile(archive, tgz(tarEntry("fine.txt", { data: "ok" }), tarEntry("../evil", { data: "x" })));
    const target = path.join(dir, "out", "target");
    await expect(placeArtifact(archive, target)).rejects.toMatchObject({ code: "SKF-ART-001" });
    expect(await readdir(path.join(dir, "out"))).toEqual([]);
  });

  it("reports a truncated archive as unreadable", async () => {
    const src = path.join(dir, "f.txt");
    await writeFile(src, "y".repeat(100_000));
    const archive = path.join(dir, "t.tgz");
    await packTgz(src, archive);
    const bytes = await readFile(archive);
    await writeFile(archive, bytes.subarray(0, bytes.length / 2));
    await expect(unpackTgz(archive, path.join(dir, "d"))).rejects.toMatchObject({ code: "SKF-ART-008" });
  });

  it("checks entry names", () => {
    expect(() => assertSafeEntryName("a/b/c.txt")).not.toThrow();
    expect(() => assertSafeEntryName("a/..b/c")).not.toThrow();
    expect(() => assertSafeEntryName("C:/x")).toThrow();
    expect(() => assertSafeEntryName("a\\..\\..\\x")).toThrow();
  });
});
