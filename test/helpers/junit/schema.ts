import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The Jenkins/Ant JUnit schema reports are validated against. */
export const JUNIT_XSD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../fixtures/junit/jenkins-junit.xsd",
);

/** Whether Debian's libxml2-utils (`xmllint`) is installed. */
export const HAS_XMLLINT = spawnSync("xmllint", ["--version"]).status === 0;

/** Validates XML with `xmllint --schema`; returns xmllint's complaints ("" when valid). */
export function schemaErrors(xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-junit-"));
  try {
    const file = join(dir, "report.xml");
    writeFileSync(file, xml);
    execFileSync("xmllint", ["--noout", "--schema", JUNIT_XSD, file], { stdio: "pipe" });
    return "";
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
