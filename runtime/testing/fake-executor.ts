import { SkiffError } from "../errors/index.js";
import type { Clock, TimerHandle } from "../interfaces/clock.js";
import type {
  ContainerResult,
  DaemonReady,
  Executor,
  ExecutorCapabilities,
  LogLine,
  StepHandle,
  StepRequest,
  StepResult,
} from "../interfaces/executor.js";
import type { Artifact, Parameter } from "../spec/types.js";

/** What one scripted step does. Everything is optional: the default is "exit 0 at once, no output". */
export interface StepScript {
  exitCode?: number;
  /** Overrides the phase derived from the exit code. */
  phase?: StepResult["phase"];
  message?: string;
  /** Standard output; becomes `outputs.result` when the controller asks for it. */
  stdout?: string;
  /** Values of `valueFrom.path` output parameters, by parameter name. */
  outputParameters?: Record<string, string>;
  /** Output artifacts by name; `null` means the file is missing. Default: every declared artifact exists. */
  outputArtifacts?: Record<string, Partial<Artifact> | null>;
  /** How long the step runs, in clock time (ms). */
  duration?: number;
  /** For daemon steps: the IP reported when ready, and how long readiness takes. */
  daemon?: { ip?: string; readyAfter?: number };
  /** `start()` throws a SkiffError with this message. */
  startError?: string;
  /** Exit codes of containerSet containers, by name (default 0). */
  containers?: Record<string, number>;
  logs?: string[];
  hostNodeName?: string;
}

export type StepScriptSource = StepScript | ((request: StepRequest, call: number) => StepScript);

export interface FakeExecutorOptions {
  clock: Clock;
  capabilities?: Partial<ExecutorCapabilities>;
  /** Used for steps no script matches. */
  defaultScript?: StepScriptSource;
}

interface Running {
  request: StepRequest;
  script: StepScript;
  handle: StepHandle;
  startedAt: number;
  result: Promise<StepResult>;
  finish: (r: StepResult) => void;
  timer?: TimerHandle;
  done: boolean;
}

const CODE = "SKF-CORE-001";

/**
 * A scripted executor for controller tests. Scripts are matched by full node name, then display-style
 * step name (the part after the last `.`, without loop/retry suffixes), then template name. Every request is
 * recorded, and the number of concurrently running steps is tracked.
 */
export class FakeExecutor implements Executor {
  readonly name = "fake";
  readonly capabilities: ExecutorCapabilities;
  /** Every request `start` received, in order. */
  readonly requests: StepRequest[] = [];
  /** Node names in the order they finished. */
  readonly finished: string[] = [];
  /** Kill calls: node name and reason. */
  readonly kills: { nodeName: string; reason: string }[] = [];
  maxConcurrency = 0;
  private running = new Map<string, Running>();
  private readonly done = new Map<string, Running>();
  private readonly scripts = new Map<string, StepScriptSource>();
  private readonly calls = new Map<string, number>();
  private readonly clock: Clock;
  private readonly defaultScript: StepScriptSource;
  private nextId = 1;

  constructor(options: FakeExecutorOptions) {
    this.clock = options.clock;
    this.capabilities = { resource: false, containers: false, ...options.capabilities };
    this.defaultScript = options.defaultScript ?? {};
  }

  /** Scripts steps whose node name, step name or template name equals `match`. */
  script(match: string, script: StepScriptSource): this {
    this.scripts.set(match, script);
    return this;
  }

  /** Steps running right now. */
  get concurrency(): number {
    return this.running.size;
  }

  /** Requests whose node name matches. */
  requestsFor(predicate: (r: StepRequest) => boolean): StepRequest[] {
    return this.requests.filter(predicate);
  }

  async start(step: StepRequest): Promise<StepHandle> {
    await Promise.resolve();
    this.requests.push(step);
    const source = this.lookup(step);
    const key = step.templateName + "\u0000" + stepName(step.nodeName);
    const call = this.calls.get(key) ?? 0;
    this.calls.set(key, call + 1);
    const script = typeof source === "function" ? source(step, call) : source;
    if (script.startError) throw new SkiffError(CODE, script.startError);
    const handle: StepHandle = { id: `fake-${this.nextId++}`, nodeId: step.nodeId };
    let finish!: (r: StepResult) => void;
    const result = new Promise<StepResult>((resolve) => (finish = resolve));
    const run: Running = {
      request: step,
      script,
      handle,
      startedAt: this.clock.now(),
      result,
      finish,
      done: false,
    };
    this.running.set(handle.id, run);
    this.maxConcurrency = Math.max(this.maxConcurrency, this.running.size);
    const daemonRunsForever = step.daemon && script.duration === undefined;
    if (!daemonRunsForever) {
      run.timer = this.clock.setTimer(script.duration ?? 0, () => this.complete(run, this.buildResult(run)));
    }
    return handle;
  }

  async ready(handle: StepHandle): Promise<DaemonReady> {
    const run = this.running.get(handle.id);
    const ip = run?.script.daemon?.ip ?? "10.0.0.1";
    const after = run?.script.daemon?.readyAfter ?? 0;
    if (after > 0) await this.clock.sleep(after);
    return { ip };
  }

  wait(handle: StepHandle): Promise<StepResult> {
    const run = this.running.get(handle.id) ?? this.done.get(handle.id);
    if (!run) return Promise.reject(new SkiffError(CODE, `unknown handle ${handle.id}`));
    return run.result;
  }

  async *logs(handle: StepHandle): AsyncIterable<LogLine> {
    const run = this.running.get(handle.id);
    if (!run) return;
    for (const text of run.script.logs ?? []) {
      await Promise.resolve();
      yield {
        nodeId: handle.nodeId,
        container: "main",
        stream: "stdout",
        time: new Date(this.clock.now()).toISOString(),
        text,
      };
    }
  }

  async kill(handle: StepHandle, reason: string): Promise<void> {
    await Promise.resolve();
    const run = this.running.get(handle.id);
    if (!run || run.done) return;
    this.kills.push({ nodeName: run.request.nodeName, reason });
    if (run.timer) this.clock.clearTimer(run.timer);
    this.complete(run, {
      phase: "Failed",
      message: reason,
      exitCode: 137,
      outputs: { exitCode: "137" },
      startedAt: iso(run.startedAt),
      finishedAt: iso(this.clock.now()),
    });
  }

  async cleanup(): Promise<void> {
    for (const run of [...this.running.values()]) await this.kill(run.handle, "cleanup");
  }

  private complete(run: Running, result: StepResult): void {
    if (run.done) return;
    run.done = true;
    this.running.delete(run.handle.id);
    this.done.set(run.handle.id, run);
    this.finished.push(run.request.nodeName);
    run.finish(result);
  }

  private lookup(step: StepRequest): StepScriptSource {
    return (
      this.scripts.get(step.nodeName) ??
      this.scripts.get(stepName(step.nodeName)) ??
      this.scripts.get(step.templateName) ??
      this.defaultScript
    );
  }

  private buildResult(run: Running): StepResult {
    const { request: req, script } = run;
    const tmpl = req.template;
    const containers: ContainerResult[] | undefined = tmpl.containerSet
      ? tmpl.containerSet.containers.map((c) => {
          const code = script.containers?.[c.name] ?? 0;
          return {
            name: c.name,
            exitCode: code,
            phase: code === 0 ? "Succeeded" : code === 64 ? "Error" : "Failed",
            ...(code === 0 ? {} : { message: `${c.name}: Error (exit code ${code})` }),
          };
        })
      : undefined;
    const failedContainer = containers?.find((c) => c.phase !== "Succeeded");
    const exitCode = script.exitCode ?? (failedContainer ? (failedContainer.exitCode ?? 1) : 0);
    let phase: StepResult["phase"] = script.phase ?? (exitCode === 0 ? "Succeeded" : "Failed");
    let message =
      script.message ??
      (phase === "Succeeded"
        ? undefined
        : (failedContainer?.message ?? `main: Error (exit code ${exitCode})`));
    const parameters: Parameter[] = [];
    const artifacts: Artifact[] = [];
    if (phase === "Succeeded") {
      for (const p of tmpl.outputs?.parameters ?? []) {
        if (p.valueFrom?.path === undefined) continue;
        const v = script.outputParameters?.[p.name] ?? p.valueFrom.default;
        if (v === undefined) {
          phase = "Error";
          message = `open ${p.valueFrom.path}: no such file or directory`;
          break;
        }
        parameters.push({ ...p, value: v });
      }
      for (const a of tmpl.outputs?.artifacts ?? []) {
        const given = script.outputArtifacts?.[a.name];
        if (given === null) {
          if (a.optional) continue;
          phase = "Error";
          message = `failed to save outputs: ${a.path ?? a.name}: no such file or directory`;
          break;
        }
        artifacts.push({ ...a, local: { key: `${req.artifactKeyPrefix}/${a.name}.tgz` }, ...given });
      }
    }
    const outputs: StepResult["outputs"] = { exitCode: String(exitCode) };
    if (parameters.length) outputs.parameters = parameters;
    if (artifacts.length) outputs.artifacts = artifacts;
    if (req.captureResult || tmpl.data || tmpl.http) {
      outputs.result = (script.stdout ?? "").replace(/\n$/, "");
    }
    return {
      phase,
      ...(message === undefined ? {} : { message }),
      exitCode,
      outputs,
      ...(containers ? { containers } : {}),
      startedAt: iso(run.startedAt),
      finishedAt: iso(this.clock.now()),
      hostNodeName: script.hostNodeName ?? "fake-node",
    };
  }
}

/** `wf[0].hello(0)` -> `hello`; `wf.A(1:x)` -> `A`. */
function stepName(nodeName: string): string {
  let s = nodeName;
  for (;;) {
    const m = /\((?:\d+(?::[^()]*)?)\)$/.exec(s);
    if (!m) break;
    s = s.slice(0, m.index);
  }
  const dot = s.lastIndexOf(".");
  return dot >= 0 ? s.slice(dot + 1) : s;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
