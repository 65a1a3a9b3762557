import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExpressionEvaluator } from "../../../runtime/interfaces/executor.js";
import { ManualClock, setup, stepRequest } from "./helpers.js";

/** Stands in for the controller's expr-lang evaluator: these tests' expressions are valid JavaScript too. */
const jsEvaluate: ExpressionEvaluator = (expression, env) =>
  new Function(...Object.keys(env), `return (${expression});`)(...Object.values(env)) as unknown;

describe("host executor, http steps", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  let server: Server;
  let base: string;
  const clock = new ManualClock();
  const seen: { method?: string; body: string; auth?: string }[] = [];

  beforeAll(async () => {
    env = await setup("none", { clock });
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method, body, auth: req.headers.authorization });
        if (req.url === "/hang") return;
        if (req.url === "/error") {
          res.statusCode = 500;
          return res.end("boom");
        }
        res.setHeader("content-type", "application/json");
        res.statusCode = req.url === "/created" ? 201 : 200;
        res.end(JSON.stringify({ path: req.url, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await env.dispose();
  });

  const http = (h: Record<string, unknown>) => ({ name: "h", http: { url: `${base}/ok`, ...h } });

  it("succeeds on 2xx with the body as result, sending method, headers and body", async () => {
    const { result } = await env.run(
      http({ method: "POST", body: "hello", headers: [{ name: "Authorization", value: "Bearer t" }] }),
    );
    expect(result.phase).toBe("Succeeded");
    expect(JSON.parse(result.outputs.result!)).toEqual({ path: "/ok", body: "hello" });
    expect(seen.at(-1)).toEqual({ method: "POST", body: "hello", auth: "Bearer t" });
  });

  it("fails on non-2xx with Argo's message", async () => {
    const { result } = await env.run(http({ url: `${base}/error` }));
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("received non-2xx response code: 500");
  });

  it("uses successCondition over request and response instead of the status", async () => {
    const ok = await env.run(http({ url: `${base}/error`, successCondition: "response.statusCode == 500" }), {
      evaluate: jsEvaluate,
    });
    expect(ok.result.phase).toBe("Succeeded");
    expect(ok.result.outputs.result).toBe("boom");
    const cond = 'response.statusCode == 201 && request.method == "GET"';
    const bad = await env.run(http({ successCondition: cond }), { evaluate: jsEvaluate });
    expect(bad.result.phase).toBe("Failed");
    expect(bad.result.message).toBe(`successCondition '${cond}' evaluated false`);
    const headers = await env.run(
      http({
        url: `${base}/created`,
        successCondition: 'response.headers["Content-Type"][0] == "application/json"',
      }),
      { evaluate: jsEvaluate },
    );
    expect(headers.result.phase).toBe("Succeeded");
  });

  it("fails with Go's timeout wording after timeoutSeconds", async () => {
    const h = await env.executor.start(
      stepRequest(http({ url: `${base}/hang`, timeoutSeconds: 2 }), { artifactRepository: env.repository }),
    );
    for (let i = 0; i < 100 && !seen.some((s) => s.method === "GET" && clock.pending > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    clock.advance(2_000);
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe(
      `Get "${base}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    );
  });

  it("fails with the connection error when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const { result } = await env.run(http({ url: `http://127.0.0.1:${port}/x` }));
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe(
      `Get "http://127.0.0.1:${port}/x": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });
});

describe("host executor, data steps", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup("none");
  });
  afterAll(async () => {
    await env.dispose();
    // The step writes its files at this host path itself when there is no sandbox.
    await rm(`/tmp/skiff-data-${process.pid}`, { recursive: true, force: true });
  });

  it("lists the files of an artifact and applies transformations; result is JSON", async () => {
    const produced = await env.run({
      name: "p",
      container: {
        image: "alpine",
        command: [
          "sh",
          "-c",
          `d=/tmp/skiff-data-${process.pid}; mkdir -p $d/logs && echo a > $d/logs/main.log && echo b > $d/other.txt`,
        ],
      },
      outputs: {
        artifacts: [{ name: "logs", path: `/tmp/skiff-data-${process.pid}`, archive: { none: {} } }],
      },
    });
    expect(produced.result.phase).toBe("Succeeded");
    const art = produced.result.outputs.artifacts![0]!;
    const { result } = await env.run(
      {
        name: "d",
        data: {
          source: { artifactPaths: { ...art } },
          transformation: [
            { expression: 'data.filter((p) => p.endsWith("main.log"))' },
            { expression: "data.map((p) => p.toUpperCase())" },
          ],
        },
      },
      { evaluate: jsEvaluate },
    );
    expect(result.phase).toBe("Succeeded");
    expect(JSON.parse(result.outputs.result!)).toEqual([`${art.local!.key}/logs/main.log`.toUpperCase()]);
  });

  it("fails when a transformation throws", async () => {
    const { result } = await env.run(
      { name: "d", data: { source: {}, transformation: [{ expression: "data.nope()" }] } },
      { evaluate: jsEvaluate },
    );
    expect(result.phase).toBe("Failed");
    expect(result.message).toContain("transformation 'data.nope()' failed");
  });
});
