import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import {
  dependsTaskNames,
  fnv32a,
  nodeId,
  parseDepends,
  parseDuration,
  parseQuantity,
  podName,
} from "../../../runtime/spec/index.js";

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["1.5h", 5_400_000],
    ["500ms", 500],
    ["1h2m3s4ms", 3_723_004],
    ["0", 0],
    ["-5s", -5000],
    ["30", 30_000],
    [45, 45_000],
    ["100us", 0.1],
  ] as const)("%s -> %d ms", (input, ms) => {
    expect(parseDuration(input)).toBeCloseTo(ms, 6);
  });

  it.each(["", "abc", "10x", "1d", "s", "1m 30s", "--1s"])("rejects %j with a coded error", (input) => {
    let error: unknown;
    try {
      parseDuration(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SkiffError);
    expect((error as SkiffError).code).toBe("SKF-SPEC-063");
  });
});

describe("parseQuantity", () => {
  it.each([
    ["100m", 0.1],
    ["1", 1],
    ["0.5", 0.5],
    ["1Gi", 1024 ** 3],
    ["512Mi", 512 * 1024 ** 2],
    ["1k", 1000],
    ["2M", 2e6],
    ["1e3", 1000],
    ["1.5Ki", 1536],
    [3, 3],
  ] as const)("%s -> %d", (input, value) => {
    expect(parseQuantity(input)).toBeCloseTo(value, 9);
  });

  it.each(["", "1GB", "abc", "1 Gi", "Mi"])("rejects %j", (input) => {
    expect(() => parseQuantity(input)).toThrow(SkiffError);
  });
});

describe("FNV-1a node IDs and pod names", () => {
  it("matches the FNV-1a 32-bit reference vectors", () => {
    expect(fnv32a("")).toBe(0x811c9dc5);
    expect(fnv32a("a")).toBe(0xe40c292c);
    expect(fnv32a("foobar")).toBe(0xbf9cf968);
  });

  it("hashes UTF-8 bytes, not UTF-16 code units", () => {
    // "é" is two bytes in UTF-8 (0xc3 0xa9).
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv32a("é")).toBe(h);
  });

  it("uses the workflow name as the root node ID and <wf>-<fnv32a(name)> otherwise", () => {
    expect(nodeId("hello-world-x7k2p", "hello-world-x7k2p")).toBe("hello-world-x7k2p");
    expect(nodeId("wf", "wf[0].hello")).toBe(`wf-${fnv32a("wf[0].hello")}`);
    expect(nodeId("steps-abc", "steps-abc[0]")).toMatch(/^steps-abc-\d+$/);
  });

  it("builds v2 pod names from the workflow, template and node name", () => {
    expect(podName("wf", "wf", "main")).toBe("wf");
    expect(podName("wf", "wf[0].hello", "say")).toBe(`wf-say-${fnv32a("wf[0].hello")}`);
    expect(podName("wf", "wf.a", "")).toBe(`wf-${fnv32a("wf.a")}`);
    const long = podName("w".repeat(200), "w.x", "t".repeat(100));
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long.endsWith(`-${fnv32a("w.x")}`)).toBe(true);
  });
});

describe("depends expressions", () => {
  it("finds the task names in order, once each", () => {
    expect(dependsTaskNames("(a.Succeeded || b-1.Failed) && !a.Skipped && c")).toEqual(["a", "b-1", "c"]);
  });

  it("reports malformed expressions", () => {
    expect(parseDepends("a &&").error).toBeDefined();
    expect(parseDepends("(a || b").error).toBe("missing ')'");
    expect(parseDepends("a b").error).toBeDefined();
    expect(parseDepends("a $ b").error).toContain("unexpected character");
    expect(parseDepends("a and not b").error).toBeUndefined();
  });
});
