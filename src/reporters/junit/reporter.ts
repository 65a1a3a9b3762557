import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RunEvent, RunReporter } from "../events.js";
import { RunCollector } from "./collect.js";
import { renderJUnit } from "./junit.js";

export interface JUnitReporterOptions {
  /** Where the report is written (its folder is created). */
  file: string;
  /** The checkout: `file` attributes are relative to it. */
  workspace: string;
  /** Values masked in messages and logs. */
  secrets?: readonly string[];
  /** Log lines kept per step as `<system-out>` (default 100). */
  logTailLines?: number;
  /** `skiff server`'s URL: each testcase's output links to its node in the web UI. */
  serverUrl?: string;
  /** Told when the report cannot be written; the run goes on. */
  onError?: (error: Error) => void;
}

/** The JUnit XML report as a run reporter: it keeps the run's results and writes the file when it ends. */
export interface JUnitReporter extends RunReporter {
  onEvent(event: RunEvent): void;
  /** Writes the report. Never rejects. */
  finish(): Promise<void>;
  /** The report as it stands. */
  render(): string;
}

/** Creates the reporter behind `skiff run --junit FILE` and every wrapper's JUnit report. */
export function createJUnitReporter(options: JUnitReporterOptions): JUnitReporter {
  const collector = new RunCollector({
    workspace: options.workspace,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.logTailLines ? { logTailLines: options.logTailLines } : {}),
  });
  const render = () =>
    renderJUnit(collector.records, {
      workspace: options.workspace,
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.serverUrl ? { serverUrl: options.serverUrl } : {}),
    });
  return {
    onEvent: (e) => collector.onEvent(e),
    render,
    async finish() {
      try {
        await mkdir(dirname(options.file), { recursive: true });
        await writeFile(options.file, render());
      } catch (e) {
        options.onError?.(e as Error);
      }
    },
  };
}
