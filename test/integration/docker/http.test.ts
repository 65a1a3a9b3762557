import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDockerExecutor } from "../../../runtime/executors/docker/index.js";
import { runStep, stepRequest } from "./helpers.js";

// http steps run in the Skiff process, as on the host executor: they need no engine at all.
describe("Docker executor: http steps", () => {
  let server: Server;
  let base: string;
  const executor = createDockerExecutor({ socketPath: "/nonexistent/docker.sock" });

  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === "/error" ? 500 : 200;
      res.end(req.url === "/error" ? "boom" : `answer for ${req.url}`);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await executor.cleanup();
  });

  it("succeeds on 2xx with the body as result and fails on 500 with Argo's message", async () => {
    const ok = await runStep(executor, stepRequest({ name: "h", http: { url: `${base}/ok` } }));
    expect(ok.result.phase).toBe("Succeeded");
    expect(ok.result.outputs.result).toBe("answer for /ok");
    const bad = await runStep(executor, stepRequest({ name: "h", http: { url: `${base}/error` } }));
    expect(bad.result.phase).toBe("Failed");
    expect(bad.result.message).toBe("received non-2xx response code: 500");
  });
});
