import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOssDriver } from "../../../runtime/artifacts/oss/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { makeTree, readTree, scratch, secret, secretsOf } from "./helpers.js";
import { startFakeOss, type FakeOss } from "./oss-fake.js";

// No OSS server runs here: the driver (the real ali-oss client) talks to a fake answering OSS's REST shapes and
// checking V1 signatures (see oss-fake.ts).
let fake: FakeOss;
let work: { dir: string; cleanup: () => Promise<void> };

const secrets = secretsOf(
  secret("oss-creds", { id: "LTAIexample", secret: "oss-secret-value" }),
  secret("oss-wrong", { id: "LTAIexample", secret: "not-it" }),
);

function art(key: string, creds = "oss-creds"): Artifact {
  return {
    name: "a",
    oss: {
      endpoint: fake.endpoint,
      bucket: "skiff-oss",
      key,
      accessKeySecret: { name: creds, key: "id" },
      secretKeySecret: { name: creds, key: "secret" },
    },
  };
}

beforeAll(async () => {
  work = await scratch("oss");
  fake = await startFakeOss({ LTAIexample: "oss-secret-value" });
});

afterAll(async () => {
  await fake?.close();
  await work?.cleanup();
});

describe("oss driver against an OSS API fake", () => {
  const driver = createOssDriver({ secrets, env: {} });

  it("saves, finds, loads and deletes a file with signed requests", async () => {
    const src = path.join(work.dir, "out.tgz");
    await writeFile(src, "oss bytes");
    const a = art("wf/pod/out.tgz");
    expect(await driver.exists(a)).toBe(false);
    await driver.save(a, src);
    expect(fake.objects.get("skiff-oss/wf/pod/out.tgz")?.toString()).toBe("oss bytes");
    expect(await driver.exists(a)).toBe(true);
    const dest = path.join(work.dir, "loaded.tgz");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("oss bytes");
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
    await expect(driver.load(a, dest + "2")).rejects.toMatchObject({ code: "SKF-ART-003" });
    expect(fake.violations).toEqual([]);
  });

  it("uploads large files as multipart and reads them back whole", async () => {
    const multi = createOssDriver({ secrets, env: {}, multipartThreshold: 200 * 1024, partSize: 100 * 1024 });
    const big = randomBytes(350 * 1024 + 3);
    const src = path.join(work.dir, "big.bin");
    await writeFile(src, big);
    await multi.save(art("big.bin"), src);
    expect(fake.requests.some((r) => r.startsWith("POST /skiff-oss/big.bin?uploads"))).toBe(true);
    const dest = path.join(work.dir, "big-loaded.bin");
    await multi.load(art("big.bin"), dest);
    expect((await readFile(dest)).equals(big)).toBe(true);
    expect(fake.uploads.size).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it("stores a folder as objects and lists it across pages", async () => {
    const files = { "a.txt": "A", "b.txt": "B", "c/d.txt": "D" };
    await driver.save(art("site/"), await makeTree(path.join(work.dir, "tree"), files));
    const dest = path.join(work.dir, "tree-loaded");
    await driver.load(art("site"), dest);
    expect(await readTree(dest)).toEqual(files);
    expect(fake.requests.some((r) => r.includes("continuation-token="))).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  it("reports a wrong secret as access denied without the secret", async () => {
    const src = path.join(work.dir, "denied.txt");
    await writeFile(src, "x");
    const err = await driver
      .save(art("denied.txt", "oss-wrong"), src)
      .catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: "SKF-ARTD-006" });
    expect(err?.message).not.toContain("not-it");
    expect(fake.objects.has("skiff-oss/denied.txt")).toBe(false);
  });

  it("takes credentials from the environment", async () => {
    const envDriver = createOssDriver({
      env: { OSS_ACCESS_KEY_ID: "LTAIexample", OSS_ACCESS_KEY_SECRET: "oss-secret-value" },
    });
    const src = path.join(work.dir, "env.txt");
    await writeFile(src, "env");
    const a: Artifact = { name: "e", oss: { endpoint: fake.endpoint, bucket: "skiff-oss", key: "env.txt" } };
    await envDriver.save(a, src);
    expect(fake.objects.get("skiff-oss/env.txt")?.toString()).toBe("env");
  });

  it("creates the bucket before the first upload when asked, and accepts one that exists", async () => {
    const src = path.join(work.dir, "nb.txt");
    await writeFile(src, "new bucket");
    const a: Artifact = {
      ...art("nb.txt"),
      oss: { ...art("nb.txt").oss, bucket: "skiff-new", createBucketIfNotPresent: true },
    };
    await driver.save(a, src);
    expect(fake.buckets.has("skiff-new")).toBe(true);
    fake.buckets.add("skiff-existing");
    const existing: Artifact = { ...a, oss: { ...a.oss, bucket: "skiff-existing" } };
    await driver.save(existing, src);
    expect(fake.objects.get("skiff-existing/nb.txt")?.toString()).toBe("new bucket");
    expect(fake.violations).toEqual([]);
  });
});
