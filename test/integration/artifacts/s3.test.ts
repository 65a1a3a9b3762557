import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { readFile, writeFile } from "node:fs/promises";
import type { LookupFunction } from "node:net";
import path from "node:path";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Driver } from "../../../runtime/artifacts/s3/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { entriesOf, makeTree, readTree, scratch, secret, secretsOf } from "./helpers.js";
import { startFileServer } from "./http-server.js";

// A real S3-compatible server (s3rver) on a free localhost port; it knows one key pair, S3RVER/S3RVER, and
// refuses requests signed with any other access key.
let server: S3rver;
let endpoint: string;
let port: number;
let work: { dir: string; cleanup: () => Promise<void> };

const creds = secret("s3-creds", { accessKey: "S3RVER", secretKey: "S3RVER" });
const secrets = secretsOf(creds, secret("wrong", { accessKey: "NOBODY", secretKey: "nope" }, true));

function art(key: string, extra: Record<string, unknown> = {}): Artifact {
  return {
    name: "a",
    s3: {
      endpoint,
      insecure: true,
      bucket: "skiff-test",
      key,
      accessKeySecret: { name: "s3-creds", key: "accessKey" },
      secretKeySecret: { name: "s3-creds", key: "secretKey" },
      ...extra,
    },
  };
}

beforeAll(async () => {
  work = await scratch("s3");
  server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: path.join(work.dir, "server"),
    serviceEndpoint: "localhost",
    configureBuckets: [{ name: "skiff-test", configs: [] }],
  });
  const addr = await server.run();
  port = addr.port;
  endpoint = `127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.close();
  await work?.cleanup();
});

describe("s3 driver against s3rver", () => {
  const driver = createS3Driver({ secrets, env: {} });

  it("saves, finds, loads and deletes a file", async () => {
    const src = path.join(work.dir, "in.tgz");
    await writeFile(src, "artifact bytes");
    const a = art("wf/pod/out.tgz");
    expect(await driver.exists(a)).toBe(false);
    await driver.save(a, src);
    expect(await driver.exists(a)).toBe(true);
    const dest = path.join(work.dir, "loaded", "out.tgz");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("artifact bytes");
    expect(await entriesOf(path.dirname(dest))).toEqual(["out.tgz"]);
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
    await expect(driver.load(a, dest + ".again")).rejects.toMatchObject({ code: "SKF-ART-003" });
  });

  it("uploads large files in parts and reads them back whole", async () => {
    const multipart = createS3Driver({
      secrets,
      env: {},
      multipartThreshold: 5 * 1024 ** 2,
      partSize: 5 * 1024 ** 2,
    });
    const big = randomBytes(11 * 1024 ** 2 + 17);
    const src = path.join(work.dir, "big.bin");
    await writeFile(src, big);
    const a = art("big/big.bin");
    await multipart.save(a, src);
    const dest = path.join(work.dir, "big-loaded.bin");
    await multipart.load(a, dest);
    expect((await readFile(dest)).equals(big)).toBe(true);
    multipart.destroy();
  });

  it("stores a folder as objects under the key; a second save adds and replaces objects", async () => {
    const dir = await makeTree(path.join(work.dir, "tree"), {
      "a.txt": "A",
      "sub/b.txt": "B",
      "old.txt": "O",
    });
    const a = art("folders/out/");
    await driver.save(a, dir);
    const second = await makeTree(path.join(work.dir, "tree2"), { "a.txt": "A2", "sub/c.txt": "C" });
    await driver.save(a, second);
    const dest = path.join(work.dir, "tree-loaded");
    await driver.load(a, dest);
    expect(await readTree(dest)).toEqual({
      "a.txt": "A2",
      "old.txt": "O",
      "sub/b.txt": "B",
      "sub/c.txt": "C",
    });
    // A key without the trailing slash that names a folder of objects loads as that folder, as in Argo.
    const dest2 = path.join(work.dir, "tree-loaded-2");
    await driver.load(art("folders/out"), dest2);
    expect(Object.keys(await readTree(dest2))).toEqual(Object.keys(await readTree(dest)));
    expect(await driver.exists(art("folders/out"))).toBe(true);
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
  });

  it("refuses an object larger than the load bound and leaves no file", async () => {
    const src = path.join(work.dir, "hundred.bin");
    await writeFile(src, Buffer.alloc(100, 7));
    const a = art("bounded/hundred.bin");
    await driver.save(a, src);
    const small = createS3Driver({ secrets, env: {}, maxBytes: 10 });
    const out = path.join(work.dir, "bounded");
    await expect(small.load(a, path.join(out, "x.bin"))).rejects.toMatchObject({ code: "SKF-ARTD-003" });
    expect(await entriesOf(out).catch(() => [])).toEqual([]);
  });

  it("reports wrong credentials as access denied without the secret in the message", async () => {
    const src = path.join(work.dir, "denied.txt");
    await writeFile(src, "x");
    const a = art("denied.txt", {
      accessKeySecret: { name: "wrong", key: "accessKey" },
      secretKeySecret: { name: "wrong", key: "secretKey" },
    });
    const err = await driver.save(a, src).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe("SKF-ARTD-006");
    expect(err?.message).not.toContain("nope");
  });

  it("reads credentials from the environment when the artifact names no Secret", async () => {
    const envDriver = createS3Driver({
      env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
    });
    const src = path.join(work.dir, "env.txt");
    await writeFile(src, "from env");
    const a: Artifact = { name: "e", s3: { endpoint, insecure: true, bucket: "skiff-test", key: "env.txt" } };
    await envDriver.save(a, src);
    expect(await envDriver.exists(a)).toBe(true);
  });

  it("fails with a coded error when the Secret is missing", async () => {
    const a = art("x", { accessKeySecret: { name: "absent", key: "k" } });
    await expect(driver.exists(a)).rejects.toMatchObject({ code: "SKF-ARTD-001" });
  });

  it("creates the bucket when asked", async () => {
    const src = path.join(work.dir, "nb.txt");
    await writeFile(src, "new bucket");
    const a = art("nb.txt", { bucket: "skiff-created", createBucketIfNotPresent: {} });
    await driver.save(a, src);
    expect(await driver.exists(a)).toBe(true);
  });

  it("addresses buckets as virtual hosts when path style is off", async () => {
    const requested: string[] = [];
    // *.localhost does not resolve everywhere; the agent resolves it to the test server.
    const lookup: LookupFunction = (host, opts, cb) => {
      requested.push(host);
      const answer = cb as (e: null, a: string | { address: string; family: number }[], f?: number) => void;
      if (opts.all) answer(null, [{ address: "127.0.0.1", family: 4 }]);
      else answer(null, "127.0.0.1", 4);
    };
    const vhost = createS3Driver({
      secrets,
      env: {},
      forcePathStyle: false,
      clientConfig: { requestHandler: { httpAgent: new Agent({ lookup } as never) } },
    });
    const src = path.join(work.dir, "vhost.txt");
    await writeFile(src, "virtual host");
    const a = art("vhost.txt", { endpoint: `s3.localhost:${port}` });
    await vhost.save(a, src);
    const dest = path.join(work.dir, "vhost-loaded.txt");
    await vhost.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("virtual host");
    expect(requested).toContain("skiff-test.s3.localhost");
    vhost.destroy();
  });

  it("sends unsigned requests when no credentials are anywhere", async () => {
    const plain = await startFileServer();
    try {
      plain.files.set("/public/data.txt", Buffer.from("public"));
      const anonymous = createS3Driver({ env: {} });
      const a: Artifact = { name: "p", s3: { endpoint: plain.url, bucket: "public", key: "data.txt" } };
      const dest = path.join(work.dir, "public.txt");
      await anonymous.load(a, dest);
      expect(await readFile(dest, "utf8")).toBe("public");
      const got = plain.seen.find((r) => r.method === "GET");
      expect(got?.path).toBe("/public/data.txt");
      expect(got?.headers.authorization).toBeUndefined();
      anonymous.destroy();
    } finally {
      await plain.close();
    }
  });
});

/** The TLS test makes its certificate with openssl; without it, it is skipped. */
const hasOpenssl = ((): boolean => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)("s3 driver over TLS with a private CA (needs openssl)", () => {
  let tls: S3rver;
  let tlsEndpoint: string;
  let pem: string;

  beforeAll(async () => {
    const key = path.join(work.dir, "tls.key");
    const cert = path.join(work.dir, "tls.crt");
    // A self-signed certificate for 127.0.0.1, as a private MinIO would have.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    pem = await readFile(cert, "utf8");
    tls = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: path.join(work.dir, "tls-server"),
      configureBuckets: [{ name: "skiff-tls", configs: [] }],
      key: await readFile(key),
      cert: pem,
    });
    tlsEndpoint = `127.0.0.1:${(await tls.run()).port}`;
  });

  afterAll(async () => {
    await tls?.close();
  });

  const tlsArt = (withCa: boolean): Artifact => ({
    name: "t",
    s3: {
      endpoint: tlsEndpoint,
      bucket: "skiff-tls",
      key: "tls.txt",
      accessKeySecret: { name: "s3-creds", key: "accessKey" },
      secretKeySecret: { name: "s3-creds", key: "secretKey" },
      ...(withCa ? { caSecret: { name: "ca", key: "ca.crt" } } : {}),
    },
  });

  it("trusts the CA from caSecret for that endpoint, and refuses the server without it", async () => {
    const driver = createS3Driver({ secrets: secretsOf(creds, secret("ca", { "ca.crt": pem })), env: {} });
    const src = path.join(work.dir, "tls.txt");
    await writeFile(src, "over tls");
    await driver.save(tlsArt(true), src);
    const dest = path.join(work.dir, "tls-loaded.txt");
    await driver.load(tlsArt(true), dest);
    expect(await readFile(dest, "utf8")).toBe("over tls");
    await expect(driver.exists(tlsArt(false))).rejects.toMatchObject({
      code: "SKF-ARTD-005",
      message: expect.stringMatching(/certificate/i),
    });
    driver.destroy();
  });
});
