// Regenerates the screenshots of docs/ui.md (docs/ui/*.png): the UI in headless Chromium against the API
// double of the UI tests, with a few runs of the test templates.
//   npx tsx scripts/ui-screenshots.ts
import { mkdirSync } from "node:fs";
import { launchChromium, seed, startBackend, startUiServer } from "../test/integration/ui/harness.js";

const NS = "default";
const OUT = "docs/ui";

const backend = await startBackend();
if (typeof backend === "string") throw new Error(backend);
await seed(backend, NS);
const server = await startUiServer(backend);
const browser = await launchChromium();
if (typeof browser === "string") throw new Error(browser);
mkdirSync(OUT, { recursive: true });

const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
page.setDefaultTimeout(60_000);
await page.goto(`${server.url}/login`);
await page.getByLabel("Token").fill(backend.token);
await page.getByRole("button", { name: "Log in" }).click();

const submit = async (template: string, exitCode?: string): Promise<string> => {
  await page.goto(`${server.url}/workflow-templates/${NS}/${template}`);
  if (exitCode) await page.getByRole("combobox", { name: "exit-code" }).selectOption(exitCode);
  await page.getByRole("button", { name: "Submit", exact: true }).click();
  await page.waitForURL(new RegExp(`/workflows/${NS}/${template}-`));
  return page.url();
};
const finished = async (phase: string): Promise<void> => {
  await page.getByTestId("workflow-phase").filter({ hasText: phase }).waitFor();
  await page.locator(`g.gnode[data-phase="Running"]`).first().waitFor({ state: "detached" });
};

const succeeded = await submit("hello", "0");
await finished("Succeeded");
const failed = await submit("hello", "1");
await finished("Failed");
await submit("slow");
await page.waitForTimeout(1500);

await page.goto(`${server.url}/workflows/${NS}`);
await page.locator("tbody tr").nth(2).waitFor();
await page.screenshot({ path: `${OUT}/workflows.png` });

await page.goto(succeeded);
await page.getByRole("button", { name: /^build: Pod Succeeded/ }).click();
await page.getByRole("tab", { name: "Inputs/Outputs" }).click();
await page.locator(".artifacts li", { hasText: "report" }).getByRole("button", { name: "Preview" }).click();
await page.getByLabel("Preview of report").waitFor();
await page.screenshot({ path: `${OUT}/workflow.png` });

await page.goto(failed);
await page.getByRole("button", { name: /^test\(1:b\): Pod Failed/ }).click();
await page.getByRole("tab", { name: "Logs" }).click();
await page.locator(".logline", { hasText: "FAIL" }).waitFor();
await page.screenshot({ path: `${OUT}/logs.png` });

await page.goto(`${server.url}/workflow-templates/${NS}/hello`);
await page.getByRole("heading", { name: "hello" }).waitFor();
await page.screenshot({ path: `${OUT}/template.png` });

await page.goto(`${server.url}/cron-workflows/${NS}/nightly`);
await page.locator(".next-runs li").first().waitFor();
await page.screenshot({ path: `${OUT}/cron.png` });

await page.goto(failed);
await page.getByRole("combobox", { name: "Theme" }).selectOption("dark");
await page.locator("g.gnode").first().waitFor();
await page.screenshot({ path: `${OUT}/workflow-dark.png` });
await page.getByRole("combobox", { name: "Theme" }).selectOption("light");

await browser.close();
await server.stop();
await backend.stop();
console.log(`screenshots written to ${OUT}/`);
