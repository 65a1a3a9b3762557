import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setup } from "./helpers.js";

const OPENSSL = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!OPENSSL) console.warn("openssl is not installed: the host alias and extra CA tests are skipped");

/** A CA, and a server certificate it signs for `skiff-alias.test` only. */
async function makeCertificates(dir: string) {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"].concat([
      "-days",
      "1",
      "-subj",
      "/CN=Skiff Test CA",
    ]),
  );
  run(
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"].concat([
      "-subj",
      "/CN=skiff-alias.test",
    ]),
  );
  await import("node:fs/promises").then((fs) =>
    fs.writeFile(path.join(dir, "ext.cnf"), "subjectAltName=DNS:skiff-alias.test\n"),
  );
  run(
    ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
      "-out",
      "server.pem",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
    ]),
  );
  return {
    ca: await readFile(path.join(dir, "ca.pem"), "utf8"),
    key: await readFile(path.join(dir, "server.key")),
    cert: await readFile(path.join(dir, "server.pem")),
  };
}

describe.skipIf(!OPENSSL)("host executor, HTTP host aliases and extra CA certificates", () => {
  let certDir: string;
  let ca: string;
  let tls: Server;
  let plain: ReturnType<typeof createHttpServer>;
  let tlsPort: number;
  let plainPort: number;
  let trusting: Awaited<ReturnType<typeof setup>>;
  let plainEnv: Awaited<ReturnType<typeof setup>>;
  const aliases = [{ ip: "127.0.0.1", hostnames: ["other.test", "skiff-alias.test"] }];

  beforeAll(async () => {
    certDir = await mkdtemp(path.join(tmpdir(), "skiff-alias-"));
    const certs = await makeCertificates(certDir);
    ca = certs.ca;
    tls = createServer({ key: certs.key, cert: certs.cert }, (q, s) => s.end(`tls ${q.headers.host}`));
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
    tlsPort = (tls.address() as AddressInfo).port;
    plain = createHttpServer((q, s) => s.end(`plain ${q.headers.host}`));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    plainPort = (plain.address() as AddressInfo).port;
    trusting = await setup("none", { extraCACerts: ca });
    plainEnv = await setup("none");
  });
  afterAll(async () => {
    await new Promise((r) => tls.close(r));
    await new Promise((r) => plain.close(r));
    await trusting.dispose();
    await plainEnv.dispose();
    await rm(certDir, { recursive: true, force: true });
  });

  it("connects an aliased hostname to its IP and trusts the extra CA for it", async () => {
    const url = `https://skiff-alias.test:${tlsPort}/`;
    const { result } = await trusting.run({ name: "h", hostAliases: aliases, http: { url } });
    expect(result.phase, result.message).toBe("Succeeded");
    expect(result.outputs.result).toBe(`tls skiff-alias.test:${tlsPort}`);
  });

  it("still checks the certificate for the hostname asked for", async () => {
    const url = `https://other.test:${tlsPort}/`;
    const { result } = await trusting.run({ name: "h", hostAliases: aliases, http: { url } });
    expect(result.phase).toBe("Failed");
    expect(result.message).toMatch(/other\.test/);
    expect(result.message).toMatch(/altnames|certificate|hostname/i);
  });

  it("does not trust the CA without the extraCACerts option", async () => {
    const url = `https://skiff-alias.test:${tlsPort}/`;
    const { result } = await plainEnv.run({ name: "h", hostAliases: aliases, http: { url } });
    expect(result.phase).toBe("Failed");
    expect(result.message).toMatch(/certificate/i);
  });

  it("aliases plain HTTP too, and a hostname without an alias is looked up as usual", async () => {
    const aliased = await plainEnv.run({
      name: "h",
      hostAliases: aliases,
      http: { url: `http://other.test:${plainPort}/x` },
    });
    expect(aliased.result.phase, aliased.result.message).toBe("Succeeded");
    expect(aliased.result.outputs.result).toBe(`plain other.test:${plainPort}`);
    const local = await plainEnv.run({
      name: "h",
      hostAliases: aliases,
      http: { url: `http://localhost:${plainPort}/` },
    });
    expect(local.result.outputs.result).toBe(`plain localhost:${plainPort}`);
    const unaliased = await plainEnv.run({ name: "h", http: { url: `http://other.test:${plainPort}/` } });
    expect(unaliased.result.phase).toBe("Failed");
    expect(unaliased.result.message).toMatch(/^Get "http:\/\/other\.test:\d+\/": .*other\.test/);
  });
});
