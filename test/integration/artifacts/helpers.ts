import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Secret } from "../../../runtime/spec/types.js";

/** A scratch folder removed by the returned function. */
export async function scratch(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `skiff-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Builds a Secret lookup over manifests; `data` values are base64 as Kubernetes stores them. */
export function secretsOf(...secrets: Secret[]): (name: string) => Secret | undefined {
  return (name) => secrets.find((s) => s.metadata.name === name);
}

export function secret(name: string, values: Record<string, string>, plain = false): Secret {
  const s: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name } };
  if (plain) s.stringData = values;
  else
    s.data = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    );
  return s;
}

/** Writes a small folder tree and returns its path. */
export async function makeTree(root: string, files: Record<string, string>): Promise<string> {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content);
  }
  return root;
}

/** Reads a folder tree back as `{ relativePath: content }`. */
export async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else out[child] = await readFile(path.join(root, child), "utf8");
    }
  };
  await walk("");
  return out;
}

/** Entries of a folder, to check no temporary files were left behind. */
export async function entriesOf(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
