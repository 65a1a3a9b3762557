// Fails when dist/ differs from what is committed (run after `npm run build`).
import { execFileSync } from "node:child_process";

const status = execFileSync("git", ["status", "--porcelain", "--", "dist"], { encoding: "utf8" });
if (status.trim() !== "") {
  console.error("dist/ is stale: rebuild with `npm run build` and commit the result.\n" + status);
  process.exit(1);
}
console.log("dist/ matches the committed bundle");
