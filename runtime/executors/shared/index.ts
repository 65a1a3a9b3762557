/**
 * What executors use of the shared pod lifecycle: `PodExecutor` and the container-runtime interface it
 * drives, and the helpers a runtime needs to plan containers. Executors import `executors/shared` through
 * this file only.
 */
export { EXEC_CODES } from "./codes.js";
export { containerEnv, type EnvSources } from "./env.js";
export { planPodContainers, type ContainerRole } from "./containers.js";
export {
  containerArgv,
  findImageConfig,
  imageRepository,
  type HostImageConfig,
  type ImageConfig,
  type ImagesConfig,
} from "./images.js";
export { iso, planPod, PodExecutor, runnableKindOf, SCRIPT_PATH } from "./pod.js";
export type {
  ContainerExit,
  ContainerOutput,
  ContainerRuntime,
  ContainerToPlan,
  FoundPod,
  PlannedContainer,
  Pod,
  PodFiles,
  PodKind,
  PodStep,
  RunnableKind,
  RunningContainer,
  StopCause,
} from "./runtime.js";
export type { VolumeFile, VolumeMountPlan, VolumeSource } from "./volumes.js";
