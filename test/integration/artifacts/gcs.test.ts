import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcsDriver } from "../../../runtime/artifacts/gcs/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { startFakeGcs, type FakeGcs } from "./gcs-fake.js";
import { makeTree, readTree, scratch, secret, secretsOf } from "./helpers.js";

// No GCS server can run here: the driver talks to a fake that checks each request against the JSON API's
// published method shapes (see gcs-fake.ts).
let fake: FakeGcs;
let work: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  work = await scratch("gcs");
  fake = await startFakeGcs();
});

afterAll(async () => {
  await fake?.close();
  await work?.cleanup();
});

const art = (key: string, extra: Record<string, unknown> = {}): Artifact => ({
  name: "a",
  gcs: { bucket: "skiff-bucket", key, ...extra },
});

describe("gcs driver against a JSON API fake", () => {
  let driver: ReturnType<typeof createGcsDriver>;
  beforeAll(() => {
    driver = createGcsDriver({ apiEndpoint: fake.endpoint, projectId: "test-project" });
  });

  it("saves with a multipart upload, then finds, loads and deletes", async () => {
    const src = path.join(work.dir, "out.tgz");
    await writeFile(src, "gcs bytes");
    const a = art("wf/pod/out.tgz");
    expect(await driver.exists(a)).toBe(false);
    await driver.save(a, src);
    expect(fake.objects.get("skiff-bucket/wf/pod/out.tgz")?.data.toString()).toBe("gcs bytes");
    expect(
      fake.requests.some(
        (r) =>
          r.startsWith("POST /upload/storage/v1/b/skiff-bucket/o?") && r.includes("uploadType=multipart"),
      ),
    ).toBe(true);
    expect(await driver.exists(a)).toBe(true);
    const dest = path.join(work.dir, "loaded.tgz");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("gcs bytes");
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
    await expect(driver.load(a, dest + "2")).rejects.toMatchObject({ code: "SKF-ART-003" });
    expect(fake.violations).toEqual([]);
  });

  it("stores a folder as objects and lists it over several pages", async () => {
    const files = { "a.txt": "A", "b.txt": "B", "c/d.txt": "D", "c/e.txt": "E", "f.txt": "F" };
    const tree = await makeTree(path.join(work.dir, "tree"), files);
    await driver.save(art("site"), tree);
    const dest = path.join(work.dir, "tree-loaded");
    await driver.load(art("site/"), dest);
    expect(await readTree(dest)).toEqual(files);
    expect(fake.requests.some((r) => r.includes("pageToken="))).toBe(true);
    await driver.delete(art("site/"));
    expect([...fake.objects.keys()].filter((k) => k.startsWith("skiff-bucket/site/"))).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("bounds loads by the size the metadata reports", async () => {
    const src = path.join(work.dir, "hundred.bin");
    await writeFile(src, Buffer.alloc(100));
    await driver.save(art("hundred.bin"), src);
    const small = createGcsDriver({ apiEndpoint: fake.endpoint, projectId: "p", maxBytes: 50 });
    await expect(small.load(art("hundred.bin"), path.join(work.dir, "h.bin"))).rejects.toMatchObject({
      code: "SKF-ARTD-003",
    });
  });

  it("refuses a service account Secret that is not a JSON key", async () => {
    const d = createGcsDriver({
      apiEndpoint: fake.endpoint,
      secrets: secretsOf(secret("sa", { "key.json": "not json" })),
    });
    await expect(
      d.exists(art("x", { serviceAccountKeySecret: { name: "sa", key: "key.json" } })),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-004",
    });
  });

  it("reports a bucket-level failure as a storage error", async () => {
    // The fake knows no such method; the driver turns the 400 into a coded error rather than a raw one.
    const d = createGcsDriver({ apiEndpoint: `${fake.endpoint}/not-the-api`, projectId: "p" });
    await expect(d.exists(art("x"))).rejects.toMatchObject({ code: "SKF-ARTD-005" });
    fake.violations.length = 0;
  });
});
