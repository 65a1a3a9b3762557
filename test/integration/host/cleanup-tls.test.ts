import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupAlive, SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

describe.each(SANDBOX_MODES)("host executor cleanup (sandbox %s)", (sandbox) => {
  it("kills what is still running and removes every temp folder", async () => {
    const records = path.join(tmpdir(), `skiff-records-test-${process.pid}-${sandbox}`);
    const env = await setup(sandbox, { recordsDir: records });
    const work = path.join(env.dir, "work");
    const h = await env.executor.start(
      // A script step: it has a step folder in both modes (a bare container without a sandbox needs none).
      stepRequest({
        name: "forever",
        script: { image: "alpine", command: ["sh"], source: "echo up; sleep 600" },
      }),
    );
    let pgid: number | undefined;
    for await (const l of env.executor.logs(h)) {
      if (l.text === "up") {
        const steps = (
          env.executor as unknown as { steps: Map<string, { pod: { processes: Set<{ pid: number }> } }> }
        ).steps;
        pgid = [...[...steps.values()][0]!.pod.processes][0]!.pid;
        break;
      }
    }
    expect(pgid).toBeDefined();
    expect(readdirSync(work).length).toBe(1);
    // The step's records (output, exit status), in a folder of their own.
    expect(readdirSync(records)).toEqual(["wf-uid-1"]);
    await env.executor.cleanup();
    expect(groupAlive(pgid!)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
    expect(existsSync(records)).toBe(false);
    const result = await env.executor.wait(h).catch((e: unknown) => e);
    expect(result).toMatchObject({ code: "SKF-EXEC-005" });
    await env.dispose();
  });
});

const OPENSSL = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!OPENSSL) console.warn("openssl is not installed: the insecureSkipVerify test is skipped");

describe.skipIf(!OPENSSL)("host executor, https with a self-signed certificate", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let server: Server;
  let url: string;
  let certDir: string;
  beforeAll(async () => {
    certDir = await mkdtemp(path.join(tmpdir(), "skiff-tls-"));
    const key = path.join(certDir, "key.pem");
    const cert = path.join(certDir, "cert.pem");
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
      ],
      { stdio: "ignore" },
    );
    server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (_q, s) =>
      s.end("secure"),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    env = await setup("none");
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await env.dispose();
    await rm(certDir, { recursive: true, force: true });
  });

  it("fails certificate verification by default and succeeds with insecureSkipVerify", async () => {
    const strict = await env.run({ name: "h", http: { url } });
    expect(strict.result.phase).toBe("Failed");
    expect(strict.result.message).toMatch(/^Get "https:.*certificate/i);
    const insecure = await env.run({ name: "h", http: { url, insecureSkipVerify: true } });
    expect(insecure.result.phase).toBe("Succeeded");
    expect(insecure.result.outputs.result).toBe("secure");
    expect(existsSync(certDir)).toBe(true);
  });
});
