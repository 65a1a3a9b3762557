import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostExecutor } from "../../../runtime/executors/host/index.js";
import type { LogLine } from "../../../runtime/interfaces/executor.js";
import type { Template } from "../../../runtime/spec/types.js";
import { SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

const echo = (text: string): Template => ({
  name: "echo",
  container: { image: "alpine", command: ["echo", text] },
});

describe.each(SANDBOX_MODES)("host executor memory per step (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let executor: HostExecutor;
  beforeAll(async () => {
    env = await setup(sandbox);
    executor = env.executor as HostExecutor;
  });
  afterAll(() => env.dispose());

  it("holds a step only until its result is taken, however many steps ran", async () => {
    const n = sandbox === "none" ? 200 : 40;
    for (let i = 0; i < n; i += 2) {
      // Two at a time, one with its logs read to the end and one whose logs are never taken.
      const read = await executor.start(stepRequest(echo(`read-${i}`)));
      const unread = await executor.start(stepRequest(echo(`unread-${i}`)));
      expect(executor.liveSteps).toBe(2);
      const lines: LogLine[] = [];
      for await (const l of executor.logs(read)) lines.push(l);
      expect(lines.map((l) => l.text)).toEqual([`read-${i}`]);
      await Promise.all([executor.wait(read), executor.wait(unread)]);
      expect(executor.liveSteps).toBe(0);
    }
  });

  it("lets a reader taken before the end drain every line after the step is forgotten", async () => {
    const h = await executor.start(
      stepRequest({
        name: "lines",
        container: { image: "alpine", command: ["sh", "-c", "for i in 1 2 3; do echo $i; done"] },
      }),
    );
    const reader = executor.logs(h)[Symbol.asyncIterator]();
    expect((await executor.wait(h)).phase).toBe("Succeeded");
    expect(executor.liveSteps).toBe(0);
    const texts: string[] = [];
    for (let r = await reader.next(); !r.done; r = await reader.next()) texts.push(r.value.text);
    expect(texts).toEqual(["1", "2", "3"]);
  });

  it("forgets a step once waited for: kill is a no-op and wait again is SKF-EXEC-005", async () => {
    const h = await executor.start(stepRequest(echo("once")));
    expect((await executor.wait(h)).phase).toBe("Succeeded");
    await expect(executor.kill(h, "late")).resolves.toBeUndefined();
    await expect(executor.wait(h)).rejects.toMatchObject({ code: "SKF-EXEC-005" });
    expect(executor.liveSteps).toBe(0);
  });

  it("still holds a running step for kill, then forgets it", async () => {
    const h = await executor.start(
      stepRequest({ name: "long", container: { image: "alpine", command: ["sleep", "600"] } }),
    );
    expect(executor.liveSteps).toBe(1);
    await executor.kill(h, "enough");
    expect(await executor.wait(h)).toMatchObject({ phase: "Failed", message: "enough" });
    expect(executor.liveSteps).toBe(0);
  });
});
