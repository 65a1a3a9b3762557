import type { Container } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { EXEC_CODES } from "./codes.js";

/** How the host runs an image's tools: a Skiff extension of Argo's `images:` entry. */
export interface HostImageConfig {
  /** Maps a command the image provides onto a host command, e.g. `{ python: "python3" }`. */
  commands?: Record<string, string>;
  /** Folders searched before the host's `PATH`. */
  path?: string[];
  /** Environment the image would set (e.g. `PYTHONUNBUFFERED`). */
  env?: Record<string, string>;
  /**
   * The image's WORKDIR: where a container without `workingDir` starts. Unset, steps start in the
   * workspace (the checkout), which is what CI pipelines written for Skiff expect.
   */
  workingDir?: string;
}

/**
 * One image's entry in the controller's `images:` setting. `entrypoint` and `cmd` are Argo's fields (the
 * image's `ENTRYPOINT` and `CMD`, used when a container gives no `command`); `host` is Skiff's.
 */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  host?: HostImageConfig;
}

/** Image name (with or without tag) -> its config. */
export type ImagesConfig = Record<string, ImageConfig>;

/**
 * Finds an image's config: the exact name first, then the name without its tag or digest, so `python` also
 * describes `python:3.12-alpine`.
 */
export function findImageConfig(images: ImagesConfig, image: string | undefined): ImageConfig | undefined {
  if (!image) return undefined;
  if (Object.hasOwn(images, image)) return images[image];
  const repo = imageRepository(image);
  if (Object.hasOwn(images, repo)) return images[repo];
  const short = repo.replace(/^(docker\.io\/)?(library\/)?/, "");
  if (Object.hasOwn(images, short)) return images[short];
  return undefined;
}

/** `ghcr.io/a/b:1.2@sha256:..` -> `ghcr.io/a/b`. */
export function imageRepository(image: string): string {
  let s = image;
  const at = s.indexOf("@");
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf("/");
  const colon = s.lastIndexOf(":");
  if (colon > slash) s = s.slice(0, colon);
  return s;
}

/**
 * The argv a container runs, by Kubernetes' rules: `command` replaces the image's entrypoint and `args`
 * replace its cmd. `extraArgs` (a script's file) go last. Throws SKF-EXEC-001 when neither the container nor
 * the image config says what to run.
 */
export function containerArgv(
  container: Container,
  image: ImageConfig | undefined,
  extraArgs: string[] = [],
  where = "container",
): string[] {
  let argv: string[];
  if (container.command && container.command.length > 0) {
    argv = [...container.command, ...(container.args ?? []), ...extraArgs];
  } else if (image && ((image.entrypoint?.length ?? 0) > 0 || (image.cmd?.length ?? 0) > 0)) {
    argv = [...(image.entrypoint ?? []), ...(container.args ?? image.cmd ?? []), ...extraArgs];
  } else {
    throw noCommand(container, where);
  }
  if (argv.length === 0) throw noCommand(container, where);
  const mapped = image?.host?.commands?.[argv[0]!];
  if (mapped) argv[0] = mapped;
  return argv;
}

function noCommand(container: Container, where: string): SkiffError {
  const image = container.image ?? "<no image>";
  return new SkiffError(
    EXEC_CODES["SKF-EXEC-001"],
    `${where} '${container.name ?? "main"}' has no command and image '${image}' is not described in the executor's images config`,
    {
      hint:
        `Add \`command:\` to the template, or add \`images: { "${image}": { entrypoint: [...], cmd: [...] } }\` ` +
        "to the executor's images config (the same setting as Argo's controller `images:`).",
    },
  );
}
