import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "./codes.js";

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go durations (`"1m30s"`, `"10s"`, `"2h"`, `"1.5h"`) and plain integers (seconds, as Argo accepts for suspend
 * and backoff) -> milliseconds. Throws a SkiffError for anything else.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw badDuration(String(value));
    return value * 1000;
  }
  const text = value.trim();
  if (/^[-+]?\d+$/.test(text)) return Number(text) * 1000;
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest.startsWith("-")) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw badDuration(value);
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== "") {
    const m = part.exec(rest);
    if (!m) throw badDuration(value);
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ""] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isFinite(total)) throw badDuration(value);
  return sign * total;
}

function badDuration(value: string): SkiffError {
  return new SkiffError(SPEC_CODES["SKF-SPEC-063"], `invalid duration "${value}"`);
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Kubernetes quantities (`"100m"`, `"1Gi"`, `"1e3"`, `2`) -> number. Throws a SkiffError for anything else. */
export function parseQuantity(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw badQuantity(String(value));
    return value;
  }
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(
    value.trim(),
  );
  if (!m) throw badQuantity(value);
  const base = Number(m[1]);
  if (m[2] !== undefined) return Number(`${m[1]}${m[2]}`);
  return base * (QUANTITY_SUFFIXES[m[3] ?? ""] ?? Number.NaN);
}

function badQuantity(value: string): SkiffError {
  return new SkiffError(SPEC_CODES["SKF-SPEC-068"], `invalid quantity "${value}"`);
}

/** FNV-1a, 32 bit, over the UTF-8 bytes of `text` (Go's `hash/fnv` New32a). */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Argo's node ID: the workflow name for the root node, else `<wf>-<fnv32a(nodeName)>`. */
export function nodeId(workflowName: string, nodeName: string): string {
  if (nodeName === workflowName) return workflowName;
  return `${workflowName}-${fnv32a(nodeName)}`;
}

// Kubernetes names are at most 253 characters; the hash suffix takes up to 10 digits and a dash.
const MAX_POD_NAME_PREFIX = 253 - 10 - 1;

/** Argo's v2 pod name (`POD_NAMES=v2`, the default): `<wf>-<template>-<fnv32a(nodeName)>`. */
export function podName(workflowName: string, nodeName: string, templateName: string): string {
  if (nodeName === workflowName) return workflowName;
  let prefix = templateName === "" ? workflowName : `${workflowName}-${templateName}`;
  if (prefix.length > MAX_POD_NAME_PREFIX - 1) prefix = prefix.slice(0, MAX_POD_NAME_PREFIX - 1);
  return `${prefix}-${fnv32a(nodeName)}`;
}
