import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf, createAzureDriver } from "../../../runtime/artifacts/azure/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { entriesOf, makeTree, readTree, scratch, secret, secretsOf } from "./helpers.js";
import { AZURITE_KEY, startAzurite, type StartedProcess } from "./processes.js";

// Azurite, Microsoft's Blob Storage emulator, started in memory on a free port.
let azurite: StartedProcess;
let endpoint: string;
let work: { dir: string; cleanup: () => Promise<void> };

const secrets = secretsOf(
  secret("azure-creds", { key: AZURITE_KEY }),
  secret("bad-key", { key: Buffer.from("not the key").toString("base64") }),
);

function art(blob: string, extra: Record<string, unknown> = {}): Artifact {
  return {
    name: "a",
    azure: {
      endpoint,
      container: "artifacts",
      blob,
      accountKeySecret: { name: "azure-creds", key: "key" },
      ...extra,
    },
  };
}

beforeAll(async () => {
  work = await scratch("azure");
  ({ proc: azurite, endpoint } = await startAzurite());
  const service = new BlobServiceClient(
    endpoint,
    new StorageSharedKeyCredential("devstoreaccount1", AZURITE_KEY),
  );
  await service.getContainerClient("artifacts").create();
});

afterAll(async () => {
  await azurite?.stop();
  await work?.cleanup();
});

describe("azure driver against Azurite", () => {
  const driver = createAzureDriver({ secrets, env: {} });

  it("finds the account in both endpoint styles", () => {
    expect(accountOf("https://myaccount.blob.core.windows.net")).toBe("myaccount");
    expect(accountOf("http://127.0.0.1:10000/devstoreaccount1")).toBe("devstoreaccount1");
  });

  it("saves, finds, loads and deletes a file", async () => {
    const src = path.join(work.dir, "out.tgz");
    await writeFile(src, "azure bytes");
    const a = art("wf/pod/out.tgz");
    expect(await driver.exists(a)).toBe(false);
    await driver.save(a, src);
    expect(await driver.exists(a)).toBe(true);
    const dest = path.join(work.dir, "loaded", "out.tgz");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("azure bytes");
    expect(await entriesOf(path.dirname(dest))).toEqual(["out.tgz"]);
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
    await expect(driver.load(a, dest + "2")).rejects.toMatchObject({ code: "SKF-ART-003" });
  });

  it("uploads in staged blocks when the file is larger than one block", async () => {
    const staged = createAzureDriver({ secrets, env: {}, blockSize: 1024 * 1024 });
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const src = path.join(work.dir, "big.bin");
    await writeFile(src, big);
    // Above one block the driver stages blocks and commits the list; 1 MiB blocks make four of them.
    await staged.save(art("big.bin"), src);
    const dest = path.join(work.dir, "big-loaded.bin");
    await staged.load(art("big.bin"), dest);
    expect((await readFile(dest)).equals(big)).toBe(true);
  });

  it("stores a folder as blobs under the name", async () => {
    const tree = await makeTree(path.join(work.dir, "tree"), { "a.txt": "A", "deep/b.txt": "B" });
    await driver.save(art("site/"), tree);
    const dest = path.join(work.dir, "tree-loaded");
    await driver.load(art("site/"), dest);
    expect(await readTree(dest)).toEqual({ "a.txt": "A", "deep/b.txt": "B" });
    await driver.delete(art("site/"));
    expect(await driver.exists(art("site/"))).toBe(false);
  });

  it("bounds loads", async () => {
    const src = path.join(work.dir, "hundred.bin");
    await writeFile(src, Buffer.alloc(100));
    await driver.save(art("hundred.bin"), src);
    const small = createAzureDriver({ secrets, env: {}, maxBytes: 99 });
    await expect(small.load(art("hundred.bin"), path.join(work.dir, "h.bin"))).rejects.toMatchObject({
      code: "SKF-ARTD-003",
    });
  });

  it("reports a wrong account key as access denied", async () => {
    const a = art("x.txt", { accountKeySecret: { name: "bad-key", key: "key" } });
    await expect(driver.exists(a)).rejects.toMatchObject({ code: "SKF-ARTD-006" });
  });

  it("asks for a credential when useSDKCreds is set without one", async () => {
    const a = art("x.txt", { accountKeySecret: undefined, useSDKCreds: true });
    await expect(driver.exists(a)).rejects.toMatchObject({ code: "SKF-ARTD-007" });
  });
});
