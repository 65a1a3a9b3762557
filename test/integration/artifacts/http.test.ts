import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArtifactoryDriver } from "../../../runtime/artifacts/artifactory/index.js";
import { createHttpDriver } from "../../../runtime/artifacts/http/index.js";
import type { Artifact } from "../../../runtime/spec/types.js";
import { entriesOf, scratch, secret, secretsOf } from "./helpers.js";
import { startFileServer, type FileServer } from "./http-server.js";

let open: FileServer;
let guarded: FileServer;
let artifactory: FileServer;
let work: { dir: string; cleanup: () => Promise<void> };

const secrets = secretsOf(
  secret("web", { user: "alice", pass: "s3cret", token: "tok-123" }),
  secret("wrong", { user: "alice", pass: "guess" }),
);

beforeAll(async () => {
  work = await scratch("http");
  open = await startFileServer();
  guarded = await startFileServer({ users: { alice: "s3cret" } });
  artifactory = await startFileServer({ users: { alice: "s3cret" }, checksums: true });
});

afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close(), artifactory?.close()]);
  await work?.cleanup();
});

describe("http driver against a node:http server", () => {
  const driver = createHttpDriver({ secrets });

  it("PUTs with a declared length, then GETs, HEADs and DELETEs", async () => {
    const src = path.join(work.dir, "out.tgz");
    await writeFile(src, "http bytes");
    const a: Artifact = { name: "a", http: { url: `${open.url}/files/out.tgz` } };
    expect(await driver.exists(a)).toBe(false);
    await driver.save(a, src);
    const put = open.seen.find((r) => r.method === "PUT");
    expect(put?.headers["content-length"]).toBe("10");
    expect(open.files.get("/files/out.tgz")?.toString()).toBe("http bytes");
    expect(await driver.exists(a)).toBe(true);
    const dest = path.join(work.dir, "got", "out.tgz");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("http bytes");
    await driver.delete(a);
    expect(await driver.exists(a)).toBe(false);
    await expect(driver.load(a, dest + "2")).rejects.toMatchObject({ code: "SKF-ART-003" });
  });

  it("sends the artifact's headers, from values and Secrets, and follows redirects", async () => {
    open.files.set("/target.txt", Buffer.from("redirected"));
    const a: Artifact = {
      name: "h",
      http: {
        url: `${open.url}/redirect/target.txt`,
        headers: [
          { name: "X-Plain", value: "plain" },
          { name: "X-Token", valueFrom: { secretKeyRef: { name: "web", key: "token" } } },
        ],
      },
    };
    const dest = path.join(work.dir, "redirected.txt");
    await driver.load(a, dest);
    expect(await readFile(dest, "utf8")).toBe("redirected");
    const got = open.seen.filter((r) => r.method === "GET").at(-1);
    expect(got?.path).toBe("/target.txt");
    expect(got?.headers["x-plain"]).toBe("plain");
    expect(got?.headers["x-token"]).toBe("tok-123");
  });

  it("uses basic auth from Secrets; wrong credentials are access denied, without the password", async () => {
    guarded.files.set("/secret.txt", Buffer.from("guarded"));
    const auth = (secretName: string): Artifact => ({
      name: "g",
      http: {
        url: `${guarded.url}/secret.txt`,
        auth: {
          basicAuth: {
            usernameSecret: { name: secretName, key: "user" },
            passwordSecret: { name: secretName, key: "pass" },
          },
        },
      },
    });
    const dest = path.join(work.dir, "guarded.txt");
    await driver.load(auth("web"), dest);
    expect(await readFile(dest, "utf8")).toBe("guarded");
    const err = await driver
      .load(auth("wrong"), dest + "2")
      .catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: "SKF-ARTD-006" });
    expect(err?.message).not.toContain("guess");
    await expect(
      driver.load({ name: "n", http: { url: `${guarded.url}/secret.txt` } }, dest + "3"),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-006",
    });
  });

  it("refuses a body over the bound, by declared length and leaves no file", async () => {
    open.files.set("/big.bin", Buffer.alloc(1000));
    const small = createHttpDriver({ maxBytes: 999 });
    const out = path.join(work.dir, "bounded");
    await mkdir(out);
    await expect(
      small.load({ name: "b", http: { url: `${open.url}/big.bin` } }, path.join(out, "big.bin")),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-003",
    });
    expect(await entriesOf(out)).toEqual([]);
  });

  it("gets an OAuth2 token by client credentials and sends it as a bearer token", async () => {
    const api = await startFileServer({
      oauth2: { clientId: "app", clientSecret: "app-secret", token: "tkn-42" },
    });
    try {
      api.files.set("/data.bin", Buffer.from("behind oauth2"));
      const oauth = (secretName: string): Artifact => ({
        name: "o",
        http: {
          url: `${api.url}/data.bin`,
          auth: {
            oauth2: {
              clientIDSecret: { name: secretName, key: "id" },
              clientSecretSecret: { name: secretName, key: "secret" },
              tokenURLSecret: { name: secretName, key: "url" },
              scopes: ["read", "write"],
              endpointParams: [{ key: "audience", value: "artifacts" }],
            },
          },
        },
      });
      const d = createHttpDriver({
        secrets: secretsOf(
          secret("oauth", { id: "app", secret: "app-secret", url: `${api.url}/token` }),
          secret("oauth-bad", { id: "app", secret: "nope", url: `${api.url}/token` }),
        ),
      });
      const dest = path.join(work.dir, "oauth.bin");
      await d.load(oauth("oauth"), dest);
      expect(await readFile(dest, "utf8")).toBe("behind oauth2");
      expect(api.tokenRequests[0]?.get("scope")).toBe("read write");
      expect(api.tokenRequests[0]?.get("audience")).toBe("artifacts");
      await expect(d.load(oauth("oauth-bad"), dest + "2")).rejects.toMatchObject({ code: "SKF-ARTD-006" });
    } finally {
      await api.close();
    }
  });

  it("refuses folders and incomplete client certificate settings with coded errors", async () => {
    await expect(
      driver.save({ name: "d", http: { url: `${open.url}/dir` } }, work.dir),
    ).rejects.toMatchObject({
      code: "SKF-ARTD-007",
    });
    await expect(
      driver.exists({
        name: "c",
        http: {
          url: `${open.url}/x`,
          auth: { clientCert: { clientCertSecret: { name: "web", key: "user" } } },
        },
      }),
    ).rejects.toMatchObject({ code: "SKF-ARTD-004" });
  });

  it("reports a server that is not there as a storage error", async () => {
    const gone = await startFileServer();
    await gone.close();
    await expect(driver.exists({ name: "x", http: { url: `${gone.url}/x` } })).rejects.toMatchObject({
      code: "SKF-ARTD-005",
    });
  });
});

describe("artifactory driver against a node:http server", () => {
  const art = (file: string, secretName = "web"): Artifact => ({
    name: "r",
    artifactory: {
      url: `${artifactory.url}/artifactory/generic-local/${file}`,
      usernameSecret: { name: secretName, key: "user" },
      passwordSecret: { name: secretName, key: "pass" },
    },
  });

  it("deploys with checksums and basic auth, then reads, checks and deletes", async () => {
    const driver = createArtifactoryDriver({ secrets, env: {} });
    const src = path.join(work.dir, "deploy.tgz");
    await writeFile(src, "deployed");
    await driver.save(art("wf/out.tgz"), src);
    const put = artifactory.seen.find((r) => r.method === "PUT");
    expect(put?.headers["x-checksum-sha1"]).toBe(createHash("sha1").update("deployed").digest("hex"));
    expect(await driver.exists(art("wf/out.tgz"))).toBe(true);
    const dest = path.join(work.dir, "deployed.tgz");
    await driver.load(art("wf/out.tgz"), dest);
    expect(await readFile(dest, "utf8")).toBe("deployed");
    await driver.delete(art("wf/out.tgz"));
    expect(await driver.exists(art("wf/out.tgz"))).toBe(false);
  });

  it("takes credentials from the environment and rejects wrong ones", async () => {
    const fromEnv = createArtifactoryDriver({
      env: { ARTIFACTORY_USERNAME: "alice", ARTIFACTORY_PASSWORD: "s3cret" },
    });
    const src = path.join(work.dir, "env.tgz");
    await writeFile(src, "env");
    const a: Artifact = {
      name: "e",
      artifactory: { url: `${artifactory.url}/artifactory/generic-local/env.tgz` },
    };
    await fromEnv.save(a, src);
    expect(artifactory.files.has("/artifactory/generic-local/env.tgz")).toBe(true);
    const driver = createArtifactoryDriver({ secrets, env: {} });
    await expect(driver.save(art("denied.tgz", "wrong"), src)).rejects.toMatchObject({
      code: "SKF-ARTD-006",
    });
  });
});

/** Certificates for the mutual-TLS test, made with openssl; without it, the test is skipped. */
function makeCertificates(
  dir: string,
): { ca: string; serverKey: string; serverCert: string; clientKey: string; clientCert: string } | undefined {
  const run = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  try {
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=test-ca",
    );
    for (const who of ["server", "client"]) {
      run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${who}.key`,
        "-out",
        `${who}.csr`,
        "-subj",
        `/CN=${who === "server" ? "127.0.0.1" : "skiff"}`,
      );
      execFileSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1\n' > ${who}.ext`], { cwd: dir });
      run(
        "x509",
        "-req",
        "-in",
        `${who}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${who}.crt`,
        "-days",
        "1",
        "-extfile",
        `${who}.ext`,
      );
    }
  } catch {
    return undefined;
  }
  const read = (f: string): string => execFileSync("cat", [f], { cwd: dir, encoding: "utf8" });
  return {
    ca: read("ca.crt"),
    serverKey: read("server.key"),
    serverCert: read("server.crt"),
    clientKey: read("client.key"),
    clientCert: read("client.crt"),
  };
}

describe("http driver with client certificates", () => {
  it("presents the certificate from Secrets to a server that requires one", async (ctx) => {
    const dir = path.join(work.dir, "certs");
    await mkdir(dir);
    const certs = makeCertificates(dir);
    if (!certs) return ctx.skip();
    const server = createHttpsServer(
      {
        key: certs.serverKey,
        cert: certs.serverCert,
        ca: certs.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) =>
        res
          .writeHead(200, { "content-type": "text/plain" })
          .end(
            `hello ${(req.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN}`,
          ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/file.txt`;
      const d = createHttpDriver({
        ca: certs.ca,
        secrets: secretsOf(secret("tls", { crt: certs.clientCert, key: certs.clientKey })),
      });
      const withCert: Artifact = {
        name: "m",
        http: {
          url,
          auth: {
            clientCert: {
              clientCertSecret: { name: "tls", key: "crt" },
              clientKeySecret: { name: "tls", key: "key" },
            },
          },
        },
      };
      const dest = path.join(work.dir, "mtls.txt");
      await d.load(withCert, dest);
      expect(await readFile(dest, "utf8")).toBe("hello skiff");
      await expect(d.load({ name: "n", http: { url } }, dest + "2")).rejects.toMatchObject({
        code: "SKF-ARTD-005",
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
