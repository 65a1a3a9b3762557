import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BWRAP_AVAILABLE, SANDBOX_MODES, setup } from "./helpers.js";

describe.each(SANDBOX_MODES)("host executor, scripts and outputs (sandbox %s)", (sandbox) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup(sandbox);
  });
  afterAll(() => env.dispose());

  it.each([
    ["sh", ["sh"], 'echo "from $0" | grep -q script && echo sh-ok'],
    ["bash", ["bash"], "x=(a b); echo bash-${#x[@]}"],
    ["python3", ["python3"], "import sys\nprint('py', sys.version_info[0])"],
    ["python via the python image default", ["python"], "print('py-image')"],
    ["node", ["node"], "console.log('node', 1 + 1)"],
  ])("runs a %s script with the source file as last argument", async (_n, command, source) => {
    const image = command[0] === "python" ? "python:3.12-alpine" : "alpine";
    const { result } = await env.run(
      { name: "s", script: { image, command, source } },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe(
      { sh: "sh-ok", bash: "bash-2", python3: "py 3", python: "py-image", node: "node 2" }[command[0]!],
    );
  });

  it("reads output parameters with one trailing newline trimmed, defaults for missing files", async () => {
    const out = `/tmp/skiff-${sandbox}-param-${process.pid}.txt`;
    const { result } = await env.run({
      name: "p",
      container: { image: "alpine", command: ["sh", "-c", `printf 'hello\\n\\n' > ${out}`] },
      outputs: {
        parameters: [
          { name: "hello", valueFrom: { path: out } },
          { name: "missing", valueFrom: { path: "/tmp/nope/missing.txt", default: "dflt" } },
        ],
      },
    });
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.parameters).toEqual([
      { name: "hello", value: "hello\n", valueFrom: { path: out } },
      { name: "missing", value: "dflt", valueFrom: { path: "/tmp/nope/missing.txt", default: "dflt" } },
    ]);
    if (sandbox === "none") await rm(out, { force: true });
    else expect(existsSync(out)).toBe(false);
  });

  it("ends in Error when an output parameter file is missing and has no default", async () => {
    const { result } = await env.run({
      name: "p",
      container: { image: "alpine", command: ["true"] },
      outputs: { parameters: [{ name: "x", valueFrom: { path: "/tmp/skiff-does-not-exist/x" } }] },
    });
    expect(result.phase).toBe("Error");
    expect(result.message).toContain("open /tmp/skiff-does-not-exist/x: no such file or directory");
  });

  it("keeps main's failure when outputs are missing too", async () => {
    const { result } = await env.run({
      name: "p",
      container: { image: "alpine", command: ["sh", "-c", "exit 1"] },
      outputs: { parameters: [{ name: "x", valueFrom: { path: "/tmp/skiff-does-not-exist/x" } }] },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toBe("main: Error (exit code 1)");
  });

  it("saves output artifacts (tgz, none, zip, optional) and loads them as inputs of the next step", async () => {
    const base = `/tmp/skiff-${sandbox}-art-${process.pid}`;
    const produced = await env.run({
      name: "produce",
      container: {
        image: "alpine",
        command: [
          "sh",
          "-c",
          `mkdir -p ${base}/dir/sub && echo one > ${base}/dir/a.txt && echo two > ${base}/dir/sub/b.txt && echo file > ${base}/f.txt`,
        ],
      },
      outputs: {
        artifacts: [
          { name: "dir", path: `${base}/dir` },
          { name: "file", path: `${base}/f.txt`, archive: { none: {} } },
          { name: "zipped", path: `${base}/dir`, archive: { zip: {} } },
          { name: "absent", path: `${base}/absent`, optional: true },
        ],
      },
    });
    expect(produced.result.phase).toBe("Succeeded");
    const arts = produced.result.outputs.artifacts!;
    expect(arts.map((a) => a.name)).toEqual(["dir", "file", "zipped"]);
    const prefix = produced.result.outputs.artifacts![0]!.local!.key.split("/").slice(0, 2).join("/");
    expect(arts.map((a) => a.local?.key)).toEqual([
      `${prefix}/dir.tgz`,
      `${prefix}/f.txt`,
      `${prefix}/zipped.zip`,
    ]);
    expect(existsSync(path.join(env.dir, "repo", `${prefix}/dir.tgz`))).toBe(true);
    if (sandbox === "none") await rm(base, { recursive: true, force: true });

    const inBase = `/tmp/skiff-${sandbox}-in-${process.pid}`;
    const consumed = await env.run(
      {
        name: "consume",
        container: {
          image: "alpine",
          command: [
            "sh",
            "-c",
            `cat ${inBase}/d/a.txt ${inBase}/d/sub/b.txt ${inBase}/f ${inBase}/z/sub/b.txt ${inBase}/raw ${inBase}/part; stat -c %a ${inBase}/f`,
          ],
        },
      },
      {
        captureResult: true,
        inputArtifacts: [
          { ...arts[0]!, path: `${inBase}/d` },
          { ...arts[1]!, path: `${inBase}/f`, mode: 0o600 },
          { ...arts[2]!, path: `${inBase}/z` },
          { name: "raw", path: `${inBase}/raw`, raw: { data: "raw-data\n" } },
          { ...arts[0]!, name: "part", path: `${inBase}/part`, subPath: "sub/b.txt" },
          { name: "opt", path: `${inBase}/opt`, optional: true },
          { name: "opt2", path: `${inBase}/opt2`, optional: true, local: { key: "nowhere/x.tgz" } },
        ],
      },
    );
    expect(consumed.result.message).toBeUndefined();
    expect(consumed.result.outputs.result).toBe("one\ntwo\nfile\ntwo\nraw-data\ntwo\n600");
    if (sandbox === "none") await rm(inBase, { recursive: true, force: true });
  });

  it("ends in Error when a required output artifact is missing, or an input cannot be loaded", async () => {
    const missingOut = await env.run({
      name: "p",
      container: { image: "alpine", command: ["true"] },
      outputs: { artifacts: [{ name: "a", path: "/tmp/skiff-nothing-here" }] },
    });
    expect(missingOut.result.phase).toBe("Error");
    expect(missingOut.result.message).toContain("no such file or directory");
    const missingIn = await env.run(
      { name: "p", container: { image: "alpine", command: ["true"] } },
      { inputArtifacts: [{ name: "a", path: "/tmp/skiff-in-x", local: { key: "no/such.tgz" } }] },
    );
    expect(missingIn.result.phase).toBe("Error");
    expect(missingIn.result.message).toMatch(/^init: Error \(exit code 1\): failed to load artifact 'a'/);
  });

  it("writes to the workspace, which every step shares", async () => {
    const ws = path.join(env.dir, "workspace");
    await mkdir(ws, { recursive: true });
    await writeFile(path.join(ws, "in.txt"), "from-checkout");
    const { result } = await env.run(
      {
        name: "w",
        container: { image: "alpine", command: ["sh", "-c", `cat ${ws}/in.txt > ${ws}/out.txt`] },
      },
      { workspace: ws },
    );
    expect(result.phase).toBe("Succeeded");
    expect(await readFile(path.join(ws, "out.txt"), "utf8")).toBe("from-checkout");
  });
});

describe.skipIf(!BWRAP_AVAILABLE)("host executor sandbox isolation (bwrap)", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup("bwrap");
  });
  afterAll(() => env.dispose());

  it("puts bwrap's own error in the message when the sandbox cannot be made", async () => {
    const { result } = await env.run({
      name: "bad",
      container: { image: "alpine", command: ["true"], workingDir: "/proc/skiff-no-such-dir" },
    });
    expect(result.phase).toBe("Failed");
    expect(result.message).toMatch(/^main: Error \(exit code 1\): bwrap: .*skiff-no-such-dir/);
  });

  it("binds writablePaths read-write", async () => {
    const cache = path.join(env.dir, "cache");
    await mkdir(cache, { recursive: true });
    const other = await setup("bwrap", { writablePaths: [cache] });
    try {
      const { result } = await other.run({
        name: "c",
        container: { image: "alpine", command: ["sh", "-c", `echo cached > ${cache}/entry`] },
      });
      expect(result.phase).toBe("Succeeded");
      expect(await readFile(path.join(cache, "entry"), "utf8")).toBe("cached\n");
    } finally {
      await other.dispose();
    }
  });

  it("gives two parallel steps their own /tmp", async () => {
    const template = (word: string) => ({
      name: "w",
      container: {
        image: "alpine",
        command: ["sh", "-c", `echo ${word} > /tmp/out.txt; sleep 0.3; cat /tmp/out.txt`],
      },
      outputs: { parameters: [{ name: "out", valueFrom: { path: "/tmp/out.txt" } }] },
    });
    const [a, b] = await Promise.all([
      env.run(template("alpha"), { captureResult: true }),
      env.run(template("beta"), { captureResult: true }),
    ]);
    expect(a.result.outputs.result).toBe("alpha");
    expect(b.result.outputs.result).toBe("beta");
    expect(a.result.outputs.parameters?.[0]?.value).toBe("alpha");
    expect(b.result.outputs.parameters?.[0]?.value).toBe("beta");
  });

  it("keeps the host root read-only but lets steps create new top-level paths privately", async () => {
    const top = `/skiff-out-${process.pid}`;
    const { result } = await env.run(
      {
        name: "ro",
        container: {
          image: "alpine",
          command: [
            "sh",
            "-c",
            `if touch /etc/skiff-x 2>/dev/null; then echo writable; else echo ro; fi; mkdir -p ${top} && echo hi > ${top}/o.txt`,
          ],
        },
        outputs: { parameters: [{ name: "o", valueFrom: { path: `${top}/o.txt` } }] },
      },
      { captureResult: true },
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("ro");
    expect(result.outputs.parameters?.[0]?.value).toBe("hi");
    expect(existsSync(top)).toBe(false);
    expect(existsSync("/etc/skiff-x")).toBe(false);
  });

  it("places input artifacts under existing host folders without touching the host", async () => {
    const target = "/etc/skiff-input-test.txt";
    const { result } = await env.run(
      { name: "in", container: { image: "alpine", command: ["cat", target] } },
      { captureResult: true, inputArtifacts: [{ name: "r", path: target, raw: { data: "inside" } }] },
    );
    expect(result.message).toBeUndefined();
    expect(result.outputs.result).toBe("inside");
    expect(existsSync(target)).toBe(false);
  });
});
