import { describe, expect, it } from "vitest";
import { canonicalHeader } from "../../../runtime/executors/shared/http.js";
import { containerArgv, findImageConfig, imageRepository } from "../../../runtime/executors/shared/images.js";
import { LineSplitter, LogStream } from "../../../runtime/executors/shared/logs.js";
import {
  containerFailureMessage,
  containerResultOf,
  exitCodeOf,
  isIgnoredSidecarExit,
  TailBuffer,
  trimOneNewline,
} from "../../../runtime/executors/shared/result.js";

describe("images", () => {
  const images = {
    "argoproj/argosay:v2": { entrypoint: ["/argosay"], cmd: [] as string[] },
    python: { host: { commands: { python: "python3" } } },
    "ghcr.io/acme/tool": { entrypoint: ["tool"], cmd: ["--help"] },
  };

  it("finds an image by exact name, then without tag, registry or library prefix", () => {
    expect(findImageConfig(images, "argoproj/argosay:v2")?.entrypoint).toEqual(["/argosay"]);
    expect(findImageConfig(images, "argoproj/argosay:v1")).toBeUndefined();
    expect(findImageConfig(images, "python:3.12-alpine")).toBe(images.python);
    expect(findImageConfig(images, "docker.io/library/python:3")).toBe(images.python);
    expect(findImageConfig(images, "ghcr.io/acme/tool:1@sha256:abc")).toBe(images["ghcr.io/acme/tool"]);
    expect(findImageConfig(images, undefined)).toBeUndefined();
    expect(imageRepository("localhost:5000/x/y:2")).toBe("localhost:5000/x/y");
    expect(imageRepository("localhost:5000/x")).toBe("localhost:5000/x");
  });

  it("builds argv by Kubernetes' rules and maps tools onto host ones", () => {
    expect(containerArgv({ command: ["sh", "-c"], args: ["echo"] }, undefined)).toEqual(["sh", "-c", "echo"]);
    expect(containerArgv({ image: "x", args: ["say", "hi"] }, images["argoproj/argosay:v2"])).toEqual([
      "/argosay",
      "say",
      "hi",
    ]);
    expect(containerArgv({ image: "t" }, images["ghcr.io/acme/tool"])).toEqual(["tool", "--help"]);
    expect(containerArgv({ image: "t", args: ["run"] }, images["ghcr.io/acme/tool"])).toEqual([
      "tool",
      "run",
    ]);
    expect(containerArgv({ command: ["python"] }, images.python, ["/argo/staging/script"])).toEqual([
      "python3",
      "/argo/staging/script",
    ]);
  });

  it("throws SKF-EXEC-001 naming the image and the config when nothing says what to run", () => {
    expect(() => containerArgv({ image: "argoproj/argosay:v2" }, undefined)).toThrow(
      expect.objectContaining({
        code: "SKF-EXEC-001",
        message: expect.stringContaining("argoproj/argosay:v2"),
        hint: expect.stringContaining('images: { "argoproj/argosay:v2"'),
      }),
    );
    expect(() => containerArgv({ image: "p", args: ["x"] }, images.python)).toThrow(
      expect.objectContaining({ code: "SKF-EXEC-001" }),
    );
  });
});

describe("results", () => {
  it("keeps only the last 256 KiB of stdout and trims one trailing newline", () => {
    const t = new TailBuffer(10);
    t.write(Buffer.from("0123456789"));
    t.write(Buffer.from("abcdefgh\n"));
    expect(t.toResult()).toBe("9abcdefgh");
    const big = new TailBuffer();
    for (let i = 0; i < 300; i++) big.write(Buffer.from(`${String(i).padStart(1023, "-")}\n`));
    const r = big.toResult();
    expect(r.length).toBe(256 * 1024 - 1);
    expect(r.endsWith("299")).toBe(true);
    expect(trimOneNewline("a\n\n")).toBe("a\n");
    expect(trimOneNewline("a")).toBe("a");
  });

  it("words container failures as Argo and maps signals to 128+N", () => {
    expect(containerFailureMessage("main", 1)).toBe("main: Error (exit code 1)");
    expect(containerFailureMessage("init", 1, "boom")).toBe("init: Error (exit code 1): boom");
    expect(exitCodeOf(null, "SIGKILL")).toBe(137);
    expect(exitCodeOf(null, "SIGTERM")).toBe(143);
    expect(exitCodeOf(2, null)).toBe(2);
    expect(containerResultOf("c", 0, undefined, undefined).phase).toBe("Succeeded");
    expect(containerResultOf("c", 64, undefined, undefined).phase).toBe("Error");
    expect(containerResultOf("c", 3, undefined, undefined)).toMatchObject({
      phase: "Failed",
      message: "c: Error (exit code 3)",
    });
    expect(isIgnoredSidecarExit(137)).toBe(true);
    expect(isIgnoredSidecarExit(1)).toBe(false);
  });
});

describe("logs", () => {
  it("splits chunks into lines, keeping multi-byte characters and CRLF endings whole", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const euro = Buffer.from("€");
    s.write(Buffer.concat([Buffer.from("a\r\nb"), euro.subarray(0, 1)]));
    s.write(Buffer.concat([euro.subarray(1), Buffer.from("\nlast")]));
    s.end();
    expect(lines).toEqual(["a", "b€", "last"]);
  });

  it("replays every line to late readers and ends them when closed", async () => {
    const stream = new LogStream();
    const line = (text: string) => ({
      nodeId: "n",
      container: "main",
      stream: "stdout" as const,
      time: "t",
      text,
    });
    stream.push(line("one"));
    const early: string[] = [];
    const reading = (async () => {
      for await (const l of stream.read()) early.push(l.text);
    })();
    stream.push(line("two"));
    stream.close();
    stream.push(line("ignored"));
    await reading;
    const late: string[] = [];
    for await (const l of stream.read()) late.push(l.text);
    expect(early).toEqual(["one", "two"]);
    expect(late).toEqual(["one", "two"]);
  });
});

describe("http helpers", () => {
  it("canonicalises header names as Go does", () => {
    expect(canonicalHeader("content-type")).toBe("Content-Type");
    expect(canonicalHeader("X-REQUEST-ID")).toBe("X-Request-Id");
  });
});

describe("log retention", () => {
  it("drops the oldest lines beyond the bound; late readers start at the oldest kept line", async () => {
    const stream = new LogStream(10);
    const line = (text: string) => ({
      nodeId: "n",
      container: "main",
      stream: "stdout" as const,
      time: "t",
      text,
    });
    for (const t of ["aaaa", "bbbb", "cccc", "dddd"]) stream.push(line(t));
    stream.close();
    const seen: string[] = [];
    for await (const l of stream.read()) seen.push(l.text);
    expect(seen).toEqual(["cccc", "dddd"]);
  });
});
