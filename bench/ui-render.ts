// The web UI with large workflows, in headless Chromium: time to first render of a workflow's page (graph
// laid out and drawn) and time to apply one live update (a node's phase changes on the workflow-events
// stream until the graph shows it), at 100, 1,000 and 10,000 nodes. Also the longest main-thread task
// seen meanwhile (a frozen tab shows as one long task), and the rows the virtualised node list keeps in
// the page.
//   npx tsx bench/ui-render.ts            prints a Markdown table
import { cpus, loadavg } from "node:os";
import { launchChromium, startUiServer } from "../test/integration/ui/harness.js";
import { largeWorkflow } from "../test/integration/ui/fixtures.js";
import { ArgoApiDouble } from "../test/integration/ui/argo-api-double.js";
import { SwaggerContract } from "../test/integration/ui/swagger-contract.js";

const SIZES = [100, 1000, 10_000];
const REPEATS = 3;
const NS = "bench";

const contract = SwaggerContract.load();
if (!contract) throw new Error("Argo's swagger (../shared/contracts) is needed");
const double = await new ArgoApiDouble({ contract, tickMs: 3_600_000, check: false }).start();
const server = await startUiServer({
  url: double.url,
  token: "",
  archive: async () => {},
  violations: () => double.violations,
  stop: () => double.stop(),
});
const browser = await launchChromium();
if (typeof browser === "string") throw new Error(browser);
const version = browser.version();

interface Row {
  nodes: number;
  firstRender: number;
  update: number;
  longestTask: number;
  listRows: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows: Row[] = [];
for (const size of SIZES) {
  const first: number[] = [];
  const update: number[] = [];
  const longest: number[] = [];
  let listRows = 0;
  for (let r = 0; r < REPEATS; r++) {
    const name = `big-${size}-${r}`;
    const wf = largeWorkflow(name, NS, size);
    double.putWorkflow(wf);
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { longest: number };
      w.longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
      }).observe({ type: "longtask", buffered: true });
    });
    await page.goto(`${server.url}/workflows/${NS}/${name}`);
    await page.locator("g.gnode").first().waitFor({ timeout: 120_000 });
    first.push(await page.evaluate(() => performance.now()));

    // One live update: the root's phase changes; measured until the graph node shows it.
    const armed = page.evaluate(
      (id) =>
        new Promise<number>((resolve) => {
          const observer = new MutationObserver(() => {
            if (
              document.querySelector(`g.gnode[data-node-id="${id}"]`)?.getAttribute("data-phase") === "Failed"
            ) {
              observer.disconnect();
              resolve(Date.now());
            }
          });
          observer.observe(document.body, {
            attributes: true,
            subtree: true,
            attributeFilter: ["data-phase"],
          });
        }),
      name,
    );
    await page.waitForTimeout(200);
    const next = structuredClone(wf);
    next.status.nodes[name].phase = "Failed";
    next.status.phase = "Failed";
    const sent = Date.now();
    double.putWorkflow(next, "MODIFIED");
    update.push((await armed) - sent);
    longest.push(await page.evaluate(() => (window as unknown as { longest: number }).longest));

    await page.getByRole("tab", { name: "Node list" }).click();
    await page.locator(".noderow").first().waitFor();
    listRows = await page.locator(".noderow").count();
    await page.close();
  }
  rows.push({
    nodes: size,
    firstRender: median(first),
    update: median(update),
    longestTask: Math.max(...longest),
    listRows,
  });
}

await browser.close();
await server.stop();
await double.stop();

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
console.log(
  `| nodes | first render | apply an update | longest main-thread task | node-list rows in the page |`,
);
console.log(`|---:|---:|---:|---:|---:|`);
for (const r of rows)
  console.log(
    `| ${r.nodes.toLocaleString("en")} | ${fmt(r.firstRender)} | ${fmt(r.update)} | ${fmt(r.longestTask)} | ${r.listRows} |`,
  );
console.log(
  `\nMedian of ${REPEATS} runs; Chromium ${version}, headless; ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at the end.`,
);
