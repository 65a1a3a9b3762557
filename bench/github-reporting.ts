/**
 * Check-run reporting at scale: requests per step, and the time from a workflow's end to the last request,
 * for pipelines of 10, 40, 200 and 1,000 parallel one-second steps and for 200- and 1,000-item loops. The
 * reporter talks through the real Octokit client to the OpenAPI-validating GitHub fake with its rate-limit
 * simulation on (80 content-creating requests a minute, 500 an hour, 1,000 requests an hour).
 *
 * Two clocks. "simulated": the reporter and the fake's limits share a fake clock that jumps over idle
 * waits, so every scenario runs in seconds; the clock's time from the end to the last request is the wait
 * GitHub's limits impose, and the real time is what the requests themselves took. "real" (10 and 40 steps,
 * which stay under the limits): the system clock, so the figure is the wall time a user would see.
 *
 *   npx tsx bench/github-reporting.ts [--only 40] [--no-real]
 *
 * Prints a table, then one JSON line with every figure.
 */
import { parseArgs } from "node:util";
import { SystemClock, type Clock } from "../runtime/interfaces/clock.js";
import { FakeClock } from "../runtime/testing/fake-clock.js";
import type { NodePhase } from "../runtime/spec/types.js";
import { createOctokitClient } from "../src/reporters/github-checks/octokit.js";
import { createGitHubChecksReporter } from "../src/reporters/github-checks/reporter.js";
import { startFakeGitHub } from "../src/testing/fake-github.js";
import { compilePipeline, WORKSPACE, WorkflowSim } from "../test/unit/reporters/github/sim.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "no-real": { type: "boolean", default: false },
  },
});

const SHA = "0123456789abcdef0123456789abcdef01234567";

interface Scenario {
  shape: "parallel" | "loop";
  steps: number;
  clock: "simulated" | "real";
}

interface Result extends Scenario {
  checkRuns: number;
  writes: number;
  writesPerStep: number;
  refused: number;
  violations: number;
  /** The clock's ms from the workflow's end to the last request (limit waits included). */
  endToLastMs: number;
  /** Real ms from the workflow's end to the last request (the requests' own time). */
  realEndToLastMs: number;
  maxWritesPerMinute: number;
  allCompleted: boolean;
}

async function measure(s: Scenario): Promise<Result> {
  const simulated = s.clock === "simulated";
  const clock: Clock = simulated
    ? new FakeClock({ start: Date.now(), autoAdvance: true })
    : new SystemClock();
  const fake = await startFakeGitHub({
    repository: "acme/app",
    rateLimits: { clock, writesPerMinute: 80, writesPerHour: 500, requestsPerHour: 1000 },
  });
  try {
    const reporter = createGitHubChecksReporter({
      client: createOctokitClient({ token: "t", baseUrl: fake.url, repository: "acme/app" }),
      clock,
      headSha: SHA,
      checks: "steps",
      workspace: WORKSPACE,
      jobUrl: "https://github.com/acme/app/actions/runs/1",
    });
    const text =
      s.shape === "parallel"
        ? `kind: Pipeline\nmetadata: {name: wide}\ntasks:\n${Array.from({ length: s.steps }, (_, i) => `  s${i}: {run: echo}\n`).join("")}`
        : "kind: Pipeline\nmetadata: {name: wide}\ntasks:\n  fan: {run: echo}\n";
    const compiled = compilePipeline(text, "wide-abcde");
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "wide"), clock);
    const step = (i: number, phase: NodePhase) =>
      s.shape === "parallel"
        ? sim.node(`s${i}`, { phase })
        : sim.node(`fan(${i}:item-${i})`, {
            id: `wide-abcde-fan-${i}`,
            parent: "wide-abcde-fan",
            templateName: "fan",
            phase,
          });
    sim.start();
    if (s.shape === "loop") sim.node("fan", { type: "TaskGroup", phase: "Running", templateName: "fan" });
    for (let i = 0; i < s.steps; i++) step(i, "Running");
    await clock.sleep(1000);
    for (let i = 0; i < s.steps; i++) step(i, "Succeeded");
    if (s.shape === "loop") sim.node("fan", { type: "TaskGroup", phase: "Succeeded" });
    const end = clock.now();
    const realEnd = performance.now();
    sim.finish("Succeeded");
    let realLast = realEnd;
    const counting = setInterval(() => {}, 1000);
    const requestsBefore = fake.requests.length;
    await reporter.flush();
    clearInterval(counting);
    if (fake.requests.length > requestsBefore) realLast = performance.now();
    const counters = fake.counters();
    return {
      ...s,
      checkRuns: fake.checkRuns.size,
      writes: counters.writes,
      writesPerStep: counters.writes / s.steps,
      refused: counters.rateLimited,
      violations: fake.violations.length,
      endToLastMs: Math.max(0, (counters.lastRequestAt ?? end) - end),
      realEndToLastMs: realLast - realEnd,
      maxWritesPerMinute: fake.maxWritesPerMinute(),
      allCompleted: [...fake.checkRuns.values()].every((r) => r.status === "completed"),
    };
  } finally {
    await fake.close();
  }
}

const scenarios: Scenario[] = [];
for (const steps of [10, 40, 200, 1000]) {
  if (!values["no-real"] && steps <= 40) scenarios.push({ shape: "parallel", steps, clock: "real" });
  scenarios.push({ shape: "parallel", steps, clock: "simulated" });
}
scenarios.push(
  { shape: "loop", steps: 200, clock: "simulated" },
  { shape: "loop", steps: 1000, clock: "simulated" },
);

const results: Result[] = [];
for (const s of scenarios) {
  if (values.only && String(s.steps) !== values.only) continue;
  results.push(await measure(s));
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  [
    "| shape | steps | clock | check runs | writes | writes/step | refused | max writes/min | end → last request (clock) | end → last request (real) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.shape} | ${r.steps} | ${r.clock} | ${r.checkRuns} | ${r.writes} | ${r.writesPerStep.toFixed(2)} | ${r.refused} | ${r.maxWritesPerMinute} | ${secs(r.endToLastMs)} | ${secs(r.realEndToLastMs)} |`,
    ),
  ].join("\n"),
);
console.log(JSON.stringify(results));
if (results.some((r) => r.violations > 0 || !r.allCompleted)) process.exitCode = 1;
