import type { Clock } from "../../interfaces/clock.js";
import type { ExecutorCapabilities, StepRequest } from "../../interfaces/executor.js";
import type { Container } from "../../spec/types.js";
import type { ContainerRole } from "./containers.js";
import type { VolumeMountPlan } from "./volumes.js";

/** Templates that run as containers of a pod. */
export type PodKind = "container" | "script" | "containerSet";

/** Templates an executor runs: pods, and the two that run inside the controller's process (Argo's agent). */
export type RunnableKind = PodKind | "http" | "data";

/** Why a step is being stopped: its `activeDeadlineSeconds` passed, or the controller killed it. */
export type StopCause = { kind: "deadline" } | { kind: "kill"; reason: string };

/**
 * One container of a step as a runtime plans it. Everything that can be checked before anything runs (an image
 * named, a command installed) is checked while planning, so `Executor.start` throws for it. A runtime adds
 * what it needs to start the container (argv and working folder on the host, image and entrypoint on Docker,
 * the container spec of a Pod on Kubernetes).
 */
export interface PlannedContainer {
  readonly name: string;
  readonly role: ContainerRole;
  /** The container as the template gives it (probes and named ports are read from it). */
  readonly spec: Container;
  /** Names of the containerSet containers this one starts after. */
  readonly dependencies: readonly string[];
}

/** One container of a pod template, as the lifecycle walks them in Argo's start order, for a runtime to plan. */
export interface ContainerToPlan {
  readonly spec: Container;
  /** `main` for a container or script template; the given (or Argo's default) name otherwise. */
  readonly name: string;
  readonly role: ContainerRole;
  /** Arguments after the container's own: the script file, for a script's main. */
  readonly extraArgs: string[];
  readonly dependencies: readonly string[];
}

/** How one container ended. Times are ms since the epoch, as the runtime's clock gives them. */
export interface ContainerExit {
  /** Null when it never ran or its end is unknown. */
  exitCode: number | null;
  startedAt: number;
  finishedAt: number;
  /** More than the exit code tells (a command that could not start, the engine's or sandbox's message). */
  detail?: string;
  /** The kernel's OOM killer ended it (`main: OOMKilled (exit code 137)`). */
  oomKilled?: boolean;
}

/** A container that was started (or found running by `attach`). */
export interface RunningContainer {
  /** The runtime's id of the container, when it has one (a Docker container id, a Pod's container name). */
  readonly id?: string;
  /** Resolves once the container has exited and its output is drained; never rejects. */
  readonly done: Promise<ContainerExit>;
  /** Asks the container to stop: SIGTERM, then SIGKILL after the runtime's grace period. */
  terminate(): void;
}

/**
 * Where a container's output goes. The runtime hands over raw chunks as they come (in order per stream); the
 * lifecycle splits them into `LogLine`s and keeps main's stdout for `outputs.result`.
 */
export interface ContainerOutput {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** Called with each stderr line as it is split (the host reads bubblewrap's complaints there). */
  watchStderr(onLine: (text: string) => void): void;
  /** The stream ended: flushes an unfinished last line. */
  end(): void;
}

/** Host folders the lifecycle places a step's inputs in before its containers start. */
export interface PodFiles {
  /**
   * The host path where a file that containers see at `containerPath` is put before they start: input
   * artifacts and a script's source go there. The host executor's is the sandbox's view of that path; Docker
   * stages them in a folder copied into the containers; Kubernetes would stage them for an init container.
   */
  inputPath(containerPath: string): string;
  /** A host folder for temporary files of artifact loading and saving. */
  scratchDir: string;
}

/** What the lifecycle tells a runtime about the step a pod runs; read-only for the runtime. */
export interface PodStep<C extends PlannedContainer = PlannedContainer> {
  readonly request: StepRequest;
  readonly kind: RunnableKind;
  /** The step's containers in the order a pod starts them (empty for http and data steps). */
  readonly plans: readonly C[];
  readonly volumes: readonly VolumeMountPlan[];
  /** Set once the step is being stopped (kill or deadline); a container started after it must be stopped too. */
  readonly stop: StopCause | undefined;
  /** Aborted when the step is stopped or ends: sleeps and requests made for the step listen to it. */
  readonly signal: AbortSignal;
}

/**
 * One step's pod on a runtime: its containers and the files around them. The lifecycle (`shared/pod.ts`) calls
 * `open`, then (unless `adopted`) `prepareVolumes`, places the inputs, calls `inputsPlaced`, then `start`s the
 * containers in Argo's order (init one by one, sidecars, main or the containerSet, then sidecars are
 * terminated), reads outputs through `outputPath`, and calls `release` last whatever happened. A method that
 * throws ends the step in `Error` with the error's message (from `prepareVolumes` and `inputsPlaced`, as Argo's
 * init container: `init: Error (exit code 1): ...`).
 */
export interface Pod<C extends PlannedContainer = PlannedContainer> {
  /** True when the pod was started by an earlier controller (`attach`): its inputs are in place already. */
  readonly adopted: boolean;
  /** When an adopted pod started (ms); the step's `startedAt`. */
  readonly startedAt?: number;
  /** Set when a container of the pod vanished without a known end: the step is `Error` `pod deleted: ...`. */
  readonly lost?: string | undefined;
  /**
   * Resolves once the pod has something a later controller can attach to (its first container exists).
   * `Executor.start` waits for it, so that a node stored as Running can be re-attached; absent when `start`
   * returns at once.
   */
  readonly launched?: Promise<void>;
  /** The folders inputs go to; makes the step's host folder when the pod needs one. */
  open(): Promise<PodFiles>;
  /** Makes the step's volumes (emptyDir, claims, configMap and secret files) before inputs are placed. */
  prepareVolumes(): Promise<void>;
  /** Called once input artifacts and the script are in place (Docker notes what to copy into containers). */
  inputsPlaced(): Promise<void>;
  /**
   * Starts one container (or follows it, for an adopted pod) and sends its output to `output`. A container
   * that cannot be started resolves `done` with an exit code and `detail` rather than throwing; throwing means
   * the pod itself is broken (the engine failed), and the step ends in `Error`.
   */
  start(container: C, output: ContainerOutput): Promise<RunningContainer>;
  /** Stops every running container (kill or deadline): SIGTERM, SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** SIGKILLs every running container at once (`Executor.cleanup`). */
  killNow(): void;
  /**
   * Maps a path in the main container to the host path its output is read from, after the containers ended
   * (`main` is main's container, or the containerSet's last to end). Docker copies the paths out of the
   * stopped container first; Kubernetes would have its wait container upload them. Undefined when there is
   * nothing to read from.
   */
  outputPath(main: RunningContainer | undefined): Promise<((containerPath: string) => string) | undefined>;
  /** The IP a daemon step is reached at (`{{steps.X.ip}}`), asked once main has started. */
  address(main: RunningContainer): Promise<string>;
  /** Runs a readiness probe's `exec` command in main's container; true when it exits 0. */
  exec(main: C, running: RunningContainer, command: string[]): Promise<boolean>;
  /** A scratch folder for a data step (which has no containers). */
  dataScratchDir(): Promise<string>;
  /** Frees what the pod holds (containers, volumes of the step, folders); called once, after the step ended. */
  release(): Promise<void>;
  /** Called once the step's result was handed over (`Executor.wait`); the pod is forgotten then. */
  forget?(): void;
}

/** What `ContainerRuntime.find` found of a step an earlier controller started. */
export type FoundPod<A> =
  /** Nothing of the step's own work was done (or it is a pure function, a data step): start it again. */
  | { action: "start" }
  /** Nothing to attach to: the step is lost (Argo's `pod deleted`), or never ran. */
  | { action: "lost" }
  /** Follow it: `found` is handed to `createPod`. */
  | { action: "follow"; found: A };

/**
 * What an executor implements: a "container runtime" that runs the containers of one step's pod. The pod
 * lifecycle in `shared/pod.ts` (`PodExecutor`) does the rest the same way for every executor: planning order,
 * input artifacts and scripts, init containers, sidecars, main or a containerSet's DAG, readiness of daemons,
 * deadlines and kills, `outputs.result` and `outputs.exitCode`, output parameters and artifacts, logs and
 * Argo's messages.
 *
 * The host executor runs containers as (sandboxed) processes, Docker as containers grouped by a pause
 * container. A Kubernetes runtime creates one Pod per step through the API: `planContainers` builds the Pod's
 * containers, `find` looks Pods up by label, `Pod.start` follows a container of the already-created Pod
 * (logs and status through the API), `inputPath`/`outputPath` stage files through the API rather than
 * a shared disk, and `address` is the Pod's IP.
 *
 * @typeParam C - the runtime's planned container.
 * @typeParam A - what `find` hands to `createPod` for a step it follows.
 */
export interface ContainerRuntime<C extends PlannedContainer = PlannedContainer, A = unknown> {
  /** `Executor.name`, also the prefix of step handles. */
  readonly name: string;
  /** How messages name the executor (`the Docker executor cannot run ...`). */
  readonly title: string;
  readonly capabilities: ExecutorCapabilities;
  readonly clock: Clock;
  /** Longest wait between two readiness probes of a daemon. */
  readonly readinessPollMs: number;
  /** Host name or IP steps run at (`StepResult.hostNodeName`). */
  readonly hostNodeName: string;
  /** PEM certificates HTTP steps trust besides the system's roots. */
  readonly extraCACerts?: string | undefined;
  /**
   * Plans one container of a pod (the lifecycle walks the template and checks a containerSet); throws a
   * SkiffError for what would keep it from starting (no image, a command not installed).
   */
  planContainer(request: StepRequest, container: ContainerToPlan): C;
  /** Gets what a pod needs before it is created (Docker checks the engine and pulls images); may throw. */
  prepareImages?(request: StepRequest, plans: readonly C[]): Promise<void>;
  /** Looks for a step an earlier controller started (`Executor.attach`). Throws a SkiffError when it cannot tell. */
  find(request: StepRequest, kind: RunnableKind): Promise<FoundPod<A>>;
  /** Makes the pod of a step (nothing runs yet); `found` is what `find` returned for an adopted one. */
  createPod(step: PodStep<C>, found: A | undefined): Pod<C>;
  /** Frees everything the runtime created, after every step was stopped (`Executor.cleanup`). */
  cleanup(): Promise<void>;
}
