import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SkiffError } from "../../errors/index.js";
import type {
  ContainerResult,
  DaemonReady,
  Executor,
  ExecutorCapabilities,
  LogLine,
  StepHandle,
  StepRequest,
  StepResult,
} from "../../interfaces/executor.js";
import { templateTypeOf, type K8sObject, type Template, type TemplateType } from "../../spec/types.js";
import { EXEC_CODES } from "./codes.js";
import { planPodContainers } from "./containers.js";
import { runDataStep } from "./data.js";
import { runHttpStep } from "./http.js";
import { InputLoadError, loadInputArtifacts } from "./inputs.js";
import { LineSplitter, LogStream } from "./logs.js";
import { collectOutputParameters, OutputCollectionError, saveOutputArtifacts } from "./outputs.js";
import {
  containerFailureMessage,
  containerResultOf,
  DEADLINE_MESSAGE,
  isIgnoredSidecarExit,
  TailBuffer,
} from "./result.js";
import type {
  ContainerExit,
  ContainerOutput,
  ContainerRuntime,
  PlannedContainer,
  Pod,
  PodKind,
  PodStep,
  RunnableKind,
  RunningContainer,
  StopCause,
} from "./runtime.js";
import { planVolumeMounts, type VolumeMountPlan } from "./volumes.js";

/** Argo writes a script's `source` here; every runtime puts it at the same place in the container. */
export const SCRIPT_PATH = "/argo/staging/script";

const RUNNABLE: ReadonlySet<TemplateType> = new Set<RunnableKind>([
  "container",
  "script",
  "containerSet",
  "http",
  "data",
]);

/** The runnable kind of a template, or undefined for one no executor here runs (resource, plugin, ...). */
export function runnableKindOf(template: Template): RunnableKind | undefined {
  const type = templateTypeOf(template);
  return type && RUNNABLE.has(type) ? (type as RunnableKind) : undefined;
}

let nextStepId = 1;

/** One step the executor holds, from `start` (or `attach`) until its result was handed over. */
class Step<C extends PlannedContainer> implements PodStep<C> {
  readonly logs = new LogStream();
  stop: StopCause | undefined;
  /** Set once the step's containers are gone: a signal asked for later starts aborted. */
  finished = false;
  pod!: Pod<C>;
  result: Promise<StepResult> = Promise.resolve(undefined as unknown as StepResult);
  readonly ready: Promise<DaemonReady>;
  resolveReady!: (r: DaemonReady) => void;
  rejectReady!: (e: unknown) => void;
  /** Made on first use (HTTP steps, readiness probes): aborting one costs an exception with a stack. */
  private abortController: AbortController | undefined;

  constructor(
    readonly handle: StepHandle,
    readonly request: StepRequest,
    readonly kind: RunnableKind,
    readonly plans: readonly C[],
    readonly volumes: readonly VolumeMountPlan[],
  ) {
    this.ready = new Promise<DaemonReady>((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => undefined);
  }

  get signal(): AbortSignal {
    if (!this.abortController) {
      this.abortController = new AbortController();
      if (this.stop || this.finished) this.abortController.abort();
    }
    return this.abortController.signal;
  }

  abort(): void {
    this.abortController?.abort();
  }
}

/**
 * The one pod lifecycle: an `Executor` that drives each step through Argo's phases on a `ContainerRuntime`
 * (see `runtime.ts` and README.md beside this file). The host and Docker executors are this class with their
 * runtime; Kubernetes will be too.
 *
 * A step is forgotten once `wait` handed its result over (a workflow of many steps must not grow memory with
 * their number): later calls for its handle throw SKF-EXEC-005, `kill` does nothing, and a `logs` iterator
 * taken before still drains the step's lines.
 */
export class PodExecutor<C extends PlannedContainer, A = unknown> implements Executor {
  readonly name: string;
  readonly capabilities: ExecutorCapabilities;
  private readonly steps = new Map<string, Step<C>>();

  constructor(protected readonly runtime: ContainerRuntime<C, A>) {
    this.name = runtime.name;
    this.capabilities = runtime.capabilities;
  }

  async start(request: StepRequest): Promise<StepHandle> {
    const kind = runnableKindOf(request.template);
    if (!kind) {
      const type = templateTypeOf(request.template);
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-003"],
        `template '${request.templateName}' is a ${type ?? "template without a runnable block"}, which the ${this.runtime.title} executor cannot run`,
      );
    }
    const plans = this.planContainers(request, kind);
    const volumes = planVolumes(request, plans);
    if (plans.length > 0) await this.runtime.prepareImages?.(request, plans);
    const step = this.begin(request, kind, plans, volumes, undefined);
    // Returning only once a container exists means a node stored as Running has something to re-attach
    // to; while inputs are staged it is still Pending, as in Argo while the init container loads them.
    if (plans.length > 0 && step.pod.launched) {
      await Promise.race([step.pod.launched, step.result.then(() => undefined)]);
    }
    return step.handle;
  }

  /** Follows a step an earlier controller of the workflow started; what counts as found is the runtime's. */
  async attach(request: StepRequest): Promise<StepHandle | undefined> {
    const kind = runnableKindOf(request.template);
    if (!kind) return undefined;
    const found = await this.runtime.find(request, kind);
    if (found.action === "start") return this.start(request);
    if (found.action === "lost") return undefined;
    const plans = this.planContainers(request, kind);
    return this.begin(request, kind, plans, planVolumes(request, plans), found.found).handle;
  }

  async ready(handle: StepHandle): Promise<DaemonReady> {
    return this.stateOf(handle).ready;
  }

  async wait(handle: StepHandle): Promise<StepResult> {
    const step = this.stateOf(handle);
    try {
      return await step.result;
    } finally {
      this.steps.delete(handle.id);
      step.pod.forget?.();
    }
  }

  logs(handle: StepHandle): AsyncIterable<LogLine> {
    // The reader holds the lines, not the step: they are freed with the reader once it ends.
    return this.stateOf(handle).logs.read();
  }

  /** How many steps the executor still holds: those started and not yet waited for. */
  get liveSteps(): number {
    return this.steps.size;
  }

  async kill(handle: StepHandle, reason: string): Promise<void> {
    const step = this.steps.get(handle.id);
    // A step already waited for has ended: there is nothing left to stop.
    if (!step) return;
    step.stop ??= { kind: "kill", reason };
    await this.stopStep(step);
    await step.result.catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    const steps = [...this.steps.values()];
    for (const s of steps) {
      s.stop ??= { kind: "kill", reason: "executor cleaned up" };
      s.abort();
      s.pod.killNow();
    }
    await Promise.all(steps.map((s) => s.result.catch(() => undefined)));
    this.steps.clear();
    await this.runtime.cleanup();
  }

  private stateOf(handle: StepHandle): Step<C> {
    const s = this.steps.get(handle.id);
    if (!s) {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-005"],
        `unknown step handle '${handle.id}' (never started here, already waited for, or cleaned up)`,
      );
    }
    return s;
  }

  private planContainers(request: StepRequest, kind: RunnableKind): C[] {
    return kind === "http" || kind === "data" ? [] : planPod(this.runtime, request, kind);
  }

  private begin(
    request: StepRequest,
    kind: RunnableKind,
    plans: C[],
    volumes: VolumeMountPlan[],
    found: A | undefined,
  ): Step<C> {
    const handle: StepHandle = { id: `${this.runtime.name}-${nextStepId++}`, nodeId: request.nodeId };
    const step = new Step<C>(handle, request, kind, plans, volumes);
    step.pod = this.runtime.createPod(step, found);
    this.steps.set(handle.id, step);
    step.result = this.runStep(step).finally(() => {
      step.logs.close();
      step.rejectReady(new SkiffError(EXEC_CODES["SKF-EXEC-008"], `daemon step '${request.nodeName}' ended`));
    });
    step.result.catch(() => undefined);
    return step;
  }

  private async stopStep(step: Step<C>): Promise<void> {
    step.abort();
    await step.pod.stop();
  }

  // ---------------------------------------------------------------------------------------------------
  // Running

  private async runStep(step: Step<C>): Promise<StepResult> {
    const clock = this.runtime.clock;
    const now = clock.now();
    const startedAt = step.pod.startedAt ?? now;
    const timer =
      step.request.deadline !== undefined
        ? clock.setTimer(step.request.deadline - now, () => {
            step.stop ??= { kind: "deadline" };
            void this.stopStep(step);
          })
        : undefined;
    try {
      if (step.kind === "http" || step.kind === "data") {
        const r =
          step.kind === "http"
            ? await runHttpStep(step.request, {
                clock,
                signal: step.signal,
                ...(this.runtime.extraCACerts ? { extraCACerts: this.runtime.extraCACerts } : {}),
              })
            : await runDataStep(step.request, { scratchDir: await step.pod.dataScratchDir() });
        const result = this.baseResult(startedAt, r.phase);
        if (r.result !== undefined) result.outputs = { result: r.result };
        if (r.message) result.message = r.message;
        applyStop(step, result);
        return result;
      }
      return await this.runPod(step, step.kind, startedAt);
    } catch (e) {
      const result = this.baseResult(startedAt, "Error");
      result.message = (e as Error).message;
      applyStop(step, result);
      return result;
    } finally {
      if (timer) clock.clearTimer(timer);
      // Probes or stragglers still writing into the step's folders would race their removal.
      step.finished = true;
      step.abort();
      await step.pod.release();
    }
  }

  private baseResult(startedAt: number, phase: StepResult["phase"]): StepResult {
    return {
      phase,
      exitCode: null,
      outputs: {},
      startedAt: iso(startedAt),
      finishedAt: iso(this.runtime.clock.now()),
      hostNodeName: this.runtime.hostNodeName,
    };
  }

  private async runPod(step: Step<C>, kind: PodKind, startedAt: number): Promise<StepResult> {
    const { request, pod, plans } = step;
    const files = await pod.open();
    const fail = (phase: StepResult["phase"], message: string, containers: ContainerResult[]): StepResult => {
      const r = { ...this.baseResult(startedAt, phase), message };
      if (containers.length) r.containers = containers;
      applyStop(step, r);
      return r;
    };

    // Argo's init container: volumes, input artifacts and the script file, in place before a container starts.
    if (!pod.adopted) {
      try {
        await pod.prepareVolumes();
        await loadInputArtifacts(request.inputArtifacts, {
          hostPath: files.inputPath,
          ...(request.artifactRepository ? { repository: request.artifactRepository } : {}),
          scratchDir: files.scratchDir,
        });
        if (kind === "script") {
          const file = files.inputPath(SCRIPT_PATH);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, request.template.script!.source ?? "");
          await chmod(file, 0o755);
        }
        await pod.inputsPlaced();
      } catch (e) {
        const msg =
          e instanceof InputLoadError ? e.message : `failed to prepare step: ${(e as Error).message}`;
        return fail("Error", containerFailureMessage("init", 1, msg), []);
      }
    }

    const containers: ContainerResult[] = [];
    for (const p of plans.filter((x) => x.role === "init")) {
      if (step.stop) break;
      const x = await (await this.startContainer(step, p, undefined)).done;
      containers.push(containerResultOf(p.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (x.exitCode !== 0) {
        return fail("Error", containerFailureMessage(p.name, x.exitCode, x.detail), containers);
      }
    }
    if (step.stop) return fail("Failed", "", containers);

    const sidecars: { plan: C; run: RunningContainer }[] = [];
    for (const p of plans.filter((x) => x.role === "sidecar")) {
      sidecars.push({ plan: p, run: await this.startContainer(step, p, undefined) });
    }

    const capture = request.captureResult ? new TailBuffer() : undefined;
    let mainExit: ContainerExit;
    let mainRun: RunningContainer | undefined;
    let mainFailure: { phase: StepResult["phase"]; message: string } | undefined;
    if (kind === "containerSet") {
      const set = await this.runContainerSet(
        step,
        plans.filter((p) => p.role === "set"),
        capture,
      );
      containers.push(...set.results);
      mainExit = set.mainExit;
      mainRun = set.mainRun;
      const failed = set.results.find((c) => c.phase !== "Succeeded");
      if (failed)
        mainFailure = {
          phase: "Failed",
          message: failed.message ?? containerFailureMessage(failed.name, failed.exitCode),
        };
    } else {
      const main = plans.find((p) => p.role === "main")!;
      const run = await this.startContainer(step, main, capture);
      mainRun = run;
      if (request.daemon) void this.watchReadiness(step, main, run);
      const x = await run.done;
      mainExit = x;
      containers.push(containerResultOf("main", x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (x.exitCode !== 0) {
        mainFailure = {
          phase: "Failed",
          message: x.oomKilled
            ? `main: OOMKilled (exit code ${x.exitCode ?? "unknown"})`
            : containerFailureMessage("main", x.exitCode, x.detail),
        };
      }
    }

    for (const s of sidecars) s.run.terminate();
    for (const s of sidecars) {
      const x = await s.run.done;
      containers.push(containerResultOf(s.plan.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt)));
      if (!mainFailure && x.exitCode !== 0 && !isIgnoredSidecarExit(x.exitCode)) {
        mainFailure = {
          phase: "Failed",
          message: containerFailureMessage(s.plan.name, x.exitCode, x.detail),
        };
      }
    }

    const result = this.baseResult(startedAt, "Succeeded");
    result.exitCode = mainExit.exitCode;
    if (mainExit.exitCode !== null) result.outputs.exitCode = String(mainExit.exitCode);
    if (capture) result.outputs.result = capture.toResult();
    if (containers.length) result.containers = containers;
    if (mainFailure) {
      result.phase = mainFailure.phase;
      result.message = mainFailure.message;
    }
    if (!step.stop) {
      try {
        const hostPath = await pod.outputPath(mainRun);
        if (hostPath) {
          const octx = {
            hostPath,
            keyPrefix: request.artifactKeyPrefix,
            scratchDir: files.scratchDir,
            ...(request.artifactRepository ? { repository: request.artifactRepository } : {}),
          };
          const params = await collectOutputParameters(request.template, octx);
          if (params.length) result.outputs.parameters = params;
          const arts = await saveOutputArtifacts(request.template, octx);
          if (arts.length) result.outputs.artifacts = arts;
        }
      } catch (e) {
        if (!mainFailure) {
          result.phase = "Error";
          result.message =
            e instanceof OutputCollectionError
              ? e.message
              : `failed to collect outputs: ${(e as Error).message}`;
        }
      }
    }
    if (request.daemon && result.phase === "Succeeded" && !step.stop) {
      // A daemon that exits on its own has failed (§1.5).
      result.phase = "Failed";
      result.message = "daemon exited";
    }
    result.finishedAt = iso(this.runtime.clock.now());
    applyStop(step, result);
    return result;
  }

  /** Runs a containerSet's containers, each once its `dependencies` succeeded, as Argo's emissary does. */
  private async runContainerSet(
    step: Step<C>,
    plans: C[],
    capture: TailBuffer | undefined,
  ): Promise<{ results: ContainerResult[]; mainExit: ContainerExit; mainRun: RunningContainer | undefined }> {
    const done = new Map<string, Promise<ContainerResult>>();
    const now = this.runtime.clock.now();
    let mainExit: ContainerExit = { exitCode: null, startedAt: now, finishedAt: now };
    let mainRun: RunningContainer | undefined;
    let lastRun: RunningContainer | undefined;
    const run = (p: C): Promise<ContainerResult> => {
      let r = done.get(p.name);
      if (r) return r;
      r = (async () => {
        const deps = await Promise.all(p.dependencies.map((d) => run(plans.find((x) => x.name === d)!)));
        if (step.stop || deps.some((d) => d.phase !== "Succeeded")) {
          return {
            name: p.name,
            exitCode: null,
            phase: "Error" as const,
            message: `Pod failed before ${p.name} container starts`,
          };
        }
        const c = await this.startContainer(step, p, p.name === "main" ? capture : undefined);
        const x = await c.done;
        lastRun = c;
        if (p.name === "main") {
          mainExit = x;
          mainRun = c;
        }
        const res = containerResultOf(p.name, x.exitCode, iso(x.startedAt), iso(x.finishedAt));
        if (x.detail && res.message) res.message += `: ${x.detail}`;
        return res;
      })();
      done.set(p.name, r);
      return r;
    };
    const results = await Promise.all(plans.map(run));
    if (!plans.some((p) => p.name === "main")) {
      const last = results[results.length - 1];
      const t = this.runtime.clock.now();
      mainExit = { exitCode: last?.exitCode ?? null, startedAt: t, finishedAt: t };
      mainRun = lastRun;
    }
    return { results, mainExit, mainRun };
  }

  private startContainer(step: Step<C>, plan: C, capture: TailBuffer | undefined): Promise<RunningContainer> {
    return step.pod.start(plan, containerOutput(step, plan.name, this.runtime, capture));
  }

  // ---------------------------------------------------------------------------------------------------
  // Daemons

  private async watchReadiness(step: Step<C>, main: C, run: RunningContainer): Promise<void> {
    const probe = main.spec.readinessProbe as K8sObject | undefined;
    const clock = this.runtime.clock;
    let running = true;
    void run.done.then(() => (running = false));
    try {
      const ip = await step.pod.address(run);
      const initial = Number(probe?.initialDelaySeconds ?? 0);
      if (initial > 0) await clock.sleep(initial * 1000, step.signal);
      const period = Math.min(Number(probe?.periodSeconds ?? 10) * 1000, this.runtime.readinessPollMs);
      while (running && !step.stop) {
        if (!probe || (await this.probeOnce(step, probe, main, run, ip))) {
          step.resolveReady({ ip });
          return;
        }
        await clock.sleep(period, step.signal);
      }
    } catch {
      // Aborted, or the container is gone: the step's end rejects `ready`.
    }
  }

  private async probeOnce(
    step: Step<C>,
    probe: K8sObject,
    main: C,
    run: RunningContainer,
    ip: string,
  ): Promise<boolean> {
    const httpGet = probe.httpGet as K8sObject | undefined;
    const exec = probe.exec as { command?: string[] } | undefined;
    const tcp = probe.tcpSocket as K8sObject | undefined;
    const timeoutMs = Number(probe.timeoutSeconds ?? 1) * 1000;
    try {
      if (httpGet) {
        const scheme = String(httpGet.scheme ?? "HTTP").toLowerCase();
        const host = String(httpGet.host ?? ip);
        const res = await fetch(
          `${scheme}://${host}:${portOf(httpGet.port, main)}${String(httpGet.path ?? "/")}`,
          { signal: AbortSignal.timeout(timeoutMs) },
        );
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 400;
      }
      if (exec?.command?.length) return await step.pod.exec(main, run, exec.command);
      if (tcp) {
        const net = await import("node:net");
        const port = portOf(tcp.port, main);
        return await new Promise<boolean>((resolve) => {
          const s = net.connect({ host: String(tcp.host ?? ip), port, timeout: timeoutMs }, () => {
            s.destroy();
            resolve(true);
          });
          s.on("error", () => resolve(false));
          s.on("timeout", () => {
            s.destroy();
            resolve(false);
          });
        });
      }
      return true;
    } catch {
      return false;
    }
  }
}

/** Plans every container of a pod in the order a pod starts them (see `planPodContainers`). */
export function planPod<C extends PlannedContainer>(
  runtime: Pick<ContainerRuntime<C, unknown>, "planContainer">,
  request: StepRequest,
  kind: PodKind,
): C[] {
  return planPodContainers(request.template, kind, SCRIPT_PATH, (spec, name, role, extraArgs = []) =>
    runtime.planContainer(request, {
      spec,
      name,
      role,
      extraArgs,
      dependencies: (spec as { dependencies?: string[] }).dependencies ?? [],
    }),
  );
}

/** The volumes a step's containers mount, from the containerSet's and each container's `volumeMounts`. */
function planVolumes(request: StepRequest, plans: readonly PlannedContainer[]): VolumeMountPlan[] {
  return planVolumeMounts(request, [
    ...((request.template.containerSet?.volumeMounts ?? []) as K8sObject[]),
    ...plans.flatMap((p) => (p.spec.volumeMounts ?? []) as K8sObject[]),
  ]);
}

/** Splits a container's output into the step's log lines; main's stdout also goes to the result capture. */
function containerOutput(
  step: Step<PlannedContainer>,
  container: string,
  runtime: { clock: { now(): number } },
  capture: TailBuffer | undefined,
): ContainerOutput {
  const push = (stream: "stdout" | "stderr", text: string): void =>
    step.logs.push({
      nodeId: step.request.nodeId,
      container,
      stream,
      time: iso(runtime.clock.now()),
      text,
    });
  let watcher: ((text: string) => void) | undefined;
  const out = new LineSplitter((text) => push("stdout", text));
  const err = new LineSplitter((text) => {
    watcher?.(text);
    push("stderr", text);
  });
  return {
    stdout: (chunk) => {
      capture?.write(chunk);
      out.write(chunk);
    },
    stderr: (chunk) => err.write(chunk),
    watchStderr: (onLine) => (watcher = onLine),
    end: () => {
      out.end();
      err.end();
    },
  };
}

/** A deadline or kill overrides whatever the containers reported; so does a container lost without an end. */
function applyStop(step: Step<PlannedContainer>, result: StepResult): void {
  if (step.pod.lost && !step.stop) {
    result.phase = "Error";
    result.message = `pod deleted: ${step.pod.lost}`;
    return;
  }
  if (!step.stop) return;
  result.phase = "Failed";
  result.message = step.stop.kind === "deadline" ? DEADLINE_MESSAGE : step.stop.reason;
}

/** A probe's port: a number, or the name of one of the container's `ports`. */
function portOf(port: unknown, container: PlannedContainer): number {
  if (typeof port === "number") return port;
  const named = (container.spec.ports ?? []).find((p) => p.name === port);
  return Number(named?.containerPort ?? port);
}

/** RFC3339 time of a clock reading. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
