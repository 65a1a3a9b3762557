import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

/** A server process started by a test; `stop` ends it and waits for it to go. */
export interface StartedProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a Node script and waits for a line of its output matching `ready`; resolves with the match. Fails
 * (and kills the process) if it exits first or prints nothing matching within `timeoutMs`.
 */
export function startNodeScript(
  script: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<{ proc: StartedProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${path.basename(script)} did not start in time:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = output.match(ready);
      if (match) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout.resume();
        child.stderr.resume();
        resolve({ proc: { child, stop }, match });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

const require = createRequire(import.meta.url);

/** Starts Azurite's Blob service in memory on a free port; resolves with its account endpoint. */
export async function startAzurite(): Promise<{ proc: StartedProcess; endpoint: string }> {
  const main = path.join(path.dirname(require.resolve("azurite/package.json")), "dist/src/blob/main.js");
  const { proc, match } = await startNodeScript(
    main,
    [
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--loose",
    ],
    /listens on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  return { proc, endpoint: `${match[1]}/devstoreaccount1` };
}

/** Azurite's well-known development account key (public, documented by Microsoft). */
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
