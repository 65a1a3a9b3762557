import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_AVAILABLE, ENTRYPOINT_IMAGE, setup, workflowContainers } from "./helpers.js";

describe.skipIf(!DOCKER_AVAILABLE)("Docker executor: containers", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env?.dispose());
  afterEach(async () => {
    expect(await workflowContainers()).toEqual([]);
  });

  it("runs a container, streams its lines and captures outputs.result", async () => {
    const { result, logs } = await env.run(
      {
        name: "hello",
        container: { image: "busybox", command: ["sh", "-c", "echo hello; echo oops >&2; echo world"] },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ result: "hello\nworld", exitCode: "0" });
    expect(logs.filter((l) => l.stream === "stdout").map((l) => l.text)).toEqual(["hello", "world"]);
    expect(logs.filter((l) => l.stream === "stderr").map((l) => l.text)).toEqual(["oops"]);
    expect(logs.every((l) => l.container === "main" && !Number.isNaN(Date.parse(l.time)))).toBe(true);
  });
});
