import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectStoreDriver, type ObjectStore } from "../../../../runtime/artifacts/shared/object-store.js";
import { redactUrl } from "../../../../runtime/artifacts/shared/http.js";
import { redactCredentials } from "../../../../runtime/artifacts/git/index.js";
import { fingerprint, readSecretValue } from "../../../../runtime/artifacts/shared/secrets.js";
import {
  entriesOf,
  makeTree,
  readTree,
  scratch,
  secret,
  secretsOf,
} from "../../../integration/artifacts/helpers.js";

let work: { dir: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  work = await scratch("drivers");
});
afterEach(() => work.cleanup());

/** An in-memory store; `chunks` splits bodies so size counting across chunks is exercised. */
function memoryStore(objects = new Map<string, Buffer>()): ObjectStore & { objects: Map<string, Buffer> } {
  return {
    objects,
    put: async (key, file) => void objects.set(key, await readFile(file)),
    get: (key) => {
      const b = objects.get(key);
      return Promise.resolve(b && { body: Readable.from([b.subarray(0, 3), b.subarray(3)]) });
    },
    has: (key) => Promise.resolve(objects.has(key)),
    list: (prefix) => Promise.resolve([...objects.keys()].filter((k) => k.startsWith(prefix)).sort()),
    remove: (key) => Promise.resolve(void objects.delete(key)),
  };
}

function driverOver(store: ObjectStore, maxBytes = 1024): ObjectStoreDriver {
  return new ObjectStoreDriver(
    "mem",
    (a) => ({ store, key: (a.s3?.key as string) ?? "", where: `mem://${a.s3?.key}` }),
    maxBytes,
  );
}

describe("secrets", () => {
  const lookup = secretsOf(secret("b64", { user: "alice" }), {
    ...secret("both", { user: "from-data" }),
    stringData: { user: "from-stringData" },
  });

  it("decodes data and prefers stringData, as the API server merges them", () => {
    expect(readSecretValue(lookup, { name: "b64", key: "user" }, "f")).toBe("alice");
    expect(readSecretValue(lookup, { name: "both", key: "user" }, "f")).toBe("from-stringData");
  });

  it("names the Secret and key but never a value when something is missing", () => {
    expect(() => readSecretValue(lookup, { name: "nope", key: "user" }, "s3.accessKeySecret")).toThrow(
      expect.objectContaining({
        code: "SKF-ARTD-001",
        message: "s3.accessKeySecret: Secret 'nope' was not found",
      }),
    );
    expect(() => readSecretValue(lookup, { name: "b64", key: "pass" }, "f")).toThrow(
      expect.objectContaining({ code: "SKF-ARTD-002" }),
    );
    expect(readSecretValue(lookup, { name: "b64", key: "pass", optional: true }, "f")).toBeUndefined();
  });
});

describe("redaction", () => {
  it("masks credentials in URLs before they reach a message", () => {
    expect(redactUrl("https://bob:hunter2@example.com/a?sig=abc&x=1")).toBe(
      "https://***@example.com/a?sig=***&x=1",
    );
    expect(redactUrl("https://example.com/a?X-Amz-Credential=c&token=t")).toBe(
      "https://example.com/a?X-Amz-Credential=***&token=***",
    );
    expect(redactUrl("not a url")).toBe("<invalid url>");
    expect(redactCredentials("fatal: unable to access 'https://bob:hunter2@git.example.com/r.git/'")).toBe(
      "fatal: unable to access 'https://***@git.example.com/r.git/'",
    );
  });
});

describe("credential fingerprints", () => {
  it("differ when any value differs, so a client is never reused for other credentials", () => {
    expect(fingerprint("id", "secret")).toBe(fingerprint("id", "secret"));
    expect(fingerprint("id", "secret")).not.toBe(fingerprint("id", "other"));
    expect(fingerprint("ab", "c")).not.toBe(fingerprint("a", "bc"));
    expect(fingerprint("id", undefined)).not.toBe(fingerprint("id", ""));
    expect(fingerprint("id", "secret")).not.toContain("secret");
  });
});

describe("object store driver", () => {
  it("refuses object names that would leave the target folder and leaves nothing behind", async () => {
    const store = memoryStore(
      new Map([
        ["out/ok.txt", Buffer.from("ok")],
        ["out/../../evil.txt", Buffer.from("x")],
      ]),
    );
    const dest = path.join(work.dir, "loaded", "out");
    await expect(driverOver(store).load({ name: "a", s3: { key: "out/" } }, dest)).rejects.toMatchObject({
      code: "SKF-ARTD-009",
    });
    expect(await entriesOf(path.dirname(dest))).toEqual([]);
  });

  it("bounds the total size of a folder, not only each object", async () => {
    const store = memoryStore(
      new Map([
        ["f/a", Buffer.alloc(600)],
        ["f/b", Buffer.alloc(600)],
      ]),
    );
    await expect(
      driverOver(store).load({ name: "a", s3: { key: "f/" } }, path.join(work.dir, "f")),
    ).rejects.toMatchObject({ code: "SKF-ARTD-003" });
    await driverOver(store, 1200).load({ name: "a", s3: { key: "f/" } }, path.join(work.dir, "f"));
    expect(Object.keys(await readTree(path.join(work.dir, "f")))).toEqual(["a", "b"]);
  });

  it("puts a file saved to a folder key under its base name", async () => {
    const store = memoryStore();
    const file = path.join(work.dir, "report.txt");
    await writeFile(file, "r");
    await driverOver(store).save({ name: "a", s3: { key: "reports/" } }, file);
    expect([...store.objects.keys()]).toEqual(["reports/report.txt"]);
  });

  it("saves a folder beside what is under the prefix, and deletes everything under it", async () => {
    const store = memoryStore(
      new Map([
        ["d/stale.txt", Buffer.from("s")],
        ["other", Buffer.from("o")],
      ]),
    );
    const tree = await makeTree(path.join(work.dir, "t"), { "x.txt": "x", "y/z.txt": "z" });
    const d = driverOver(store);
    await d.save({ name: "a", s3: { key: "d" } }, tree);
    expect([...store.objects.keys()].sort()).toEqual(["d/stale.txt", "d/x.txt", "d/y/z.txt", "other"]);
    expect(await d.exists({ name: "a", s3: { key: "d" } })).toBe(true);
    await d.delete({ name: "a", s3: { key: "d" } });
    expect([...store.objects.keys()]).toEqual(["other"]);
    await expect(d.load({ name: "a", s3: { key: "d" } }, path.join(work.dir, "gone"))).rejects.toMatchObject({
      code: "SKF-ART-003",
    });
  });
});
