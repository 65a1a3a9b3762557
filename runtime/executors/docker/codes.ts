import { defineErrorCodes } from "../../errors/index.js";

/** What to do when an image cannot be had; also part of the node's message, which is all a run shows of it. */
export const IMAGE_HINT =
  "No registry may be reachable from here. Map the name onto an image the engine has with `imageMap` in the " +
  'Skiff config (`.skiff/config.yaml` or `--config`; e.g. `imageMap: { busybox: "my-mirror/busybox:1.36" }`), ' +
  "build or load the image locally (`docker build`, `docker load`), or run the steps on this machine with " +
  "`--executor host`.";

/** Error codes of the Docker executor (`SKF-DOCKER-`). */
export const DOCKER_CODES = defineErrorCodes({
  "SKF-DOCKER-001": {
    title: "Docker engine not reachable",
    hint:
      "Start the Docker daemon (`dockerd`, or Docker Desktop) and check that this user may use its socket " +
      "(`docker info`), or set DOCKER_HOST / the executor's `socketPath`. Without Docker, use the host executor.",
  },
  "SKF-DOCKER-002": {
    title: "Image not available",
    hint: IMAGE_HINT,
  },
  "SKF-DOCKER-003": {
    title: "Container could not be created",
    hint:
      "The Docker engine refused the container's settings (image, volumes, resources or securityContext); " +
      "the engine's message says which.",
  },
  "SKF-DOCKER-004": {
    title: "Invalid resource quantity",
    hint: "Use Kubernetes quantities: cpu as `500m` or `1.5`, memory as `128Mi`, `1Gi` or bytes.",
  },
  "SKF-DOCKER-005": {
    title: "Step containers not found",
    hint:
      "On recovery the Docker engine could not be asked for the containers a killed Skiff process left running; " +
      "check that the engine answers (`docker ps`) and resume again.",
  },
});
