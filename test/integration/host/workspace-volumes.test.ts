import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SANDBOX_MODES, setup } from "./helpers.js";

describe.each(SANDBOX_MODES)("host executor workspace (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  let ws: string;
  beforeAll(async () => {
    env = await setup(sandbox);
    ws = path.join(env.dir, "checkout");
    await mkdir(ws, { recursive: true });
    await writeFile(path.join(ws, "README"), "from-checkout\n");
  });
  afterAll(() => env.dispose());

  it("starts a container without workingDir in the workspace and exports SKIFF_WORKSPACE", async () => {
    const { result } = await env.run(
      {
        name: "w",
        container: {
          image: "alpine",
          command: ["sh", "-c", 'pwd; echo "$SKIFF_WORKSPACE"; cat README; echo made > relative.txt'],
        },
      },
      { workspace: ws, captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe(`${ws}\n${ws}\nfrom-checkout`);
    expect(await readFile(path.join(ws, "relative.txt"), "utf8")).toBe("made\n");
  });

  it("keeps an explicit workingDir", async () => {
    const { result } = await env.run(
      { name: "w", container: { image: "alpine", command: ["pwd"], workingDir: "/usr" } },
      { workspace: ws, captureResult: true },
    );
    expect(result.outputs.result).toBe("/usr");
  });

  it("starts in / without a workspace, and sets no SKIFF_WORKSPACE", async () => {
    const { result } = await env.run(
      { name: "w", container: { image: "alpine", command: ["sh", "-c", 'pwd; echo "[$SKIFF_WORKSPACE]"'] } },
      { captureResult: true },
    );
    expect(result.outputs.result).toBe("/\n[]");
  });
});
