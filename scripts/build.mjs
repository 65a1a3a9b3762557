// Bundles the entry points into dist/. The bundles are committed, so the output must be deterministic.
import { build } from "esbuild";
import { chmodSync, existsSync } from "node:fs";
import { bundleUi } from "../src/ui/bundle.mjs";

const entries = [
  { in: "src/cli/index.ts", out: "cli" },
  { in: "src/action/index.ts", out: "action" },
  { in: "src/action/post.ts", out: "action-post" },
].filter((e) => existsSync(e.in));

await build({
  entryPoints: entries,
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: false,
  legalComments: "none",
  // dockerode reaches ssh2, whose native helpers are optional (it falls back to JavaScript when they are
  // missing): keep them out of the bundle rather than fail on their `.node` files.
  // ali-oss's HTTP client (urllib) requires proxy-agent only when a proxy is configured; it is not installed.
  external: ["cpu-features", "*.node", "proxy-agent"],
  logLevel: "warning",
  banner: {
    js: [
      "#!/usr/bin/env node",
      'import { createRequire as __skiffCreateRequire } from "node:module";',
      "const require = __skiffCreateRequire(import.meta.url);",
      'import { fileURLToPath as __skiffFileURLToPath } from "node:url";',
      'import { dirname as __skiffDirname } from "node:path";',
      "const __filename = __skiffFileURLToPath(import.meta.url);",
      "const __dirname = __skiffDirname(__filename);",
    ].join("\n"),
  },
});

// The CLI bundle is the package's `bin`: committed executable, so `npm install -g .` and `./dist/cli.js`
// work and leave the tree unmodified (check-dist fails on a mode change too).
chmodSync("dist/cli.js", 0o755);

// The web UI `skiff server` serves: a browser bundle of its own (preact, elkjs, CSS), no CDN at run time.
await bundleUi("dist/ui");
