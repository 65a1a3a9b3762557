import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_MODES, setup } from "./helpers.js";

describe.each(SANDBOX_MODES)("host executor, container steps (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup(sandbox);
  });
  afterAll(() => env.dispose());

  it("runs command + args, captures stdout as result and logs with timestamps", async () => {
    const { result, logs } = await env.run(
      {
        name: "hello",
        container: { image: "alpine", command: ["sh", "-c"], args: ["echo hello; echo oops >&2"] },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.exitCode).toBe(0);
    expect(result.outputs.result).toBe("hello");
    expect(result.outputs.exitCode).toBe("0");
    expect(logs.map((l) => [l.container, l.stream, l.text])).toEqual(
      expect.arrayContaining([
        ["main", "stdout", "hello"],
        ["main", "stderr", "oops"],
      ]),
    );
    for (const l of logs) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it("reports a non-zero exit as Argo does", async () => {
    const { result } = await env.run({
      name: "fail",
      container: { image: "alpine", command: ["sh", "-c", "exit 3"] },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("main: Error (exit code 3)");
    expect(result.exitCode).toBe(3);
    expect(result.outputs.exitCode).toBe("3");
  });

  it("does not pass the host's other environment variables (secrets stay out)", async () => {
    process.env.SKIFF_TEST_SECRET = "secret";
    try {
      const { result } = await env.run(
        {
          name: "env",
          container: { image: "alpine", command: ["sh", "-c", 'echo "${SKIFF_TEST_SECRET:-unset} $PATH"'] },
        },
        { captureResult: true },
      );
      const [secret, pathVar] = result.outputs.result!.split(" ");
      expect(secret).toBe("unset");
      expect(pathVar).toBe(process.env.PATH);
    } finally {
      delete process.env.SKIFF_TEST_SECRET;
    }
  });

  it("passes env and workingDir", async () => {
    const { result } = await env.run(
      {
        name: "env",
        container: {
          image: "alpine",
          command: ["sh", "-c", 'echo "$GREETING $ARGO_X $(pwd)"'],
          env: [{ name: "GREETING", value: "hi" }],
          workingDir: "/tmp",
        },
      },
      { captureResult: true, env: { ARGO_X: "x" } },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("hi x /tmp");
  });
});
