import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The import rules of DESIGN.md's Layout table are enforced by `import-x/no-restricted-paths` in
 * eslint.config.js. These cases lint one import as if it were written in a file of the tree and check
 * that the real configuration reports it, naming the boundary, or lets it pass.
 */
const ROOT = join(import.meta.dirname, "../../..");

// The boundaries need no type information: lint without the TypeScript project, so any file name works.
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [
    {
      files: ["**/*.ts"],
      languageOptions: { parserOptions: { projectService: false } },
      rules: { "@typescript-eslint/no-floating-promises": "off" },
    },
  ],
});

async function boundaryErrors(file: string, from: string): Promise<string[]> {
  const code = `import * as m from "${from}";\nexport const used = m;\n`;
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  const messages = result?.messages ?? [];
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return (
    messages
      // Files of ALLOW_PENDING only warn; none is used here.
      .filter((m) => m.ruleId === "import-x/no-restricted-paths" && m.severity === 2)
      .map((m) => m.message)
  );
}

describe("import boundaries", () => {
  it.each([
    ["runtime/spec/units.ts", "../expr/index.js", "runtime/spec imports nothing of Skiff but runtime/errors"],
    ["runtime/spec/units.ts", "../../src/version.js", "runtime/ knows nothing of src/"],
    ["runtime/expr/template.ts", "../controller/index.js", "runtime/expr imports only runtime/spec"],
    ["runtime/controller/loops.ts", "../executors/host/index.js", "runtime/controller imports only"],
    ["runtime/controller/loops.ts", "../store/index.js", "runtime/controller imports only"],
    ["runtime/executors/docker/spec.ts", "../host/index.js", "never another executor"],
    ["runtime/executors/kubernetes/kubernetes.ts", "../docker/index.js", "never another executor"],
    ["runtime/executors/docker/spec.ts", "../../artifacts/archive.js", "through runtime/artifacts/index.ts"],
    ["runtime/executors/shared/images.ts", "../host/index.js", "never an executor"],
    ["runtime/artifacts/s3/s3.ts", "../gcs/index.js", "never another driver"],
    ["runtime/artifacts/s3/s3.ts", "../../controller/index.js", "artifact driver (runtime/artifacts/s3)"],
    ["runtime/store/queue.ts", "../controller/index.js", "runtime/store imports only"],
    ["runtime/interfaces/clock.ts", "../expr/index.js", "runtime/interfaces imports only"],
    ["src/cli/commands/lint.ts", "../../../runtime/executors/host/index.js", "src/run/executors.ts"],
    ["src/run/select.ts", "../../runtime/executors/shared/images.js", "src/run/executors.ts"],
    [
      "src/reporters/console/index.ts",
      "../../../runtime/artifacts/s3/index.js",
      "runtime/artifacts/index.ts",
    ],
  ])("%s may not import %s", async (file, from, boundary) => {
    const errors = await boundaryErrors(file, from);
    expect(errors.some((m) => m.includes(boundary) && m.includes("(DESIGN.md, Layout)"))).toBe(true);
  });

  it.each([
    ["runtime/spec/units.ts", "../errors/index.js"],
    ["runtime/spec/rules/dag.ts", "../depends.js"],
    ["runtime/expr/template.ts", "../spec/types.js"],
    ["runtime/controller/loops.ts", "../expr/index.js"],
    ["runtime/controller/loops.ts", "../interfaces/index.js"],
    ["runtime/executors/docker/spec.ts", "../shared/images.js"],
    ["runtime/executors/docker/spec.ts", "../../interfaces/executor.js"],
    ["runtime/executors/shared/images.ts", "../../artifacts/index.js"],
    ["runtime/artifacts/s3/s3.ts", "../shared/index.js"],
    ["runtime/store/queue.ts", "../interfaces/store.js"],
    ["src/run/executors.ts", "../../runtime/executors/host/index.js"],
    ["src/run/select.ts", "../../runtime/artifacts/index.js"],
    ["src/cli/commands/lint.ts", "../../../runtime/spec/index.js"],
  ])("%s may import %s", async (file, from) => {
    expect(await boundaryErrors(file, from)).toEqual([]);
  });
});
