/**
 * Loading and linting do work proportional to the file: doubling the input at most about doubles a
 * deterministic count of elementary operations (set and map insertions and lookups, array searches).
 */
import { describe, expect, it } from "vitest";
import { Library, parseManifests, validate } from "../../../runtime/spec/index.js";

const HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: linear-\n";

/** Counts elementary operations done by `run` (synchronous code only). */
function countWork(run: () => void): number {
  let n = 0;
  const set = Set.prototype;
  const map = Map.prototype;
  const array = Array.prototype;
  const saved = {
    add: set.add,
    has: set.has,
    get: map.get,
    mapSet: map.set,
    some: array.some,
    find: array.find,
    findIndex: array.findIndex,
  };
  type Search = (cb: (...a: unknown[]) => unknown, thisArg?: unknown) => unknown;
  const counted = (search: Search): Search =>
    function (this: unknown, cb, thisArg) {
      return search.call(this, (...a: unknown[]) => {
        n++;
        return cb.apply(thisArg, a);
      });
    };
  set.add = function (this: Set<unknown>, v: unknown) {
    n++;
    return saved.add.call(this, v);
  };
  set.has = function (this: Set<unknown>, v: unknown) {
    n++;
    return saved.has.call(this, v);
  };
  map.get = function (this: Map<unknown, unknown>, k: unknown) {
    n++;
    return saved.get.call(this, k);
  };
  map.set = function (this: Map<unknown, unknown>, k: unknown, v: unknown) {
    n++;
    return saved.mapSet.call(this, k, v);
  };
  array.some = counted(saved.some as Search) as typeof array.some;
  array.find = counted(saved.find as Search) as typeof array.find;
  array.findIndex = counted(saved.findIndex as Search) as typeof array.findIndex;
  try {
    run();
  } finally {
    Object.assign(set, { add: saved.add, has: saved.has });
    Object.assign(map, { get: saved.get, set: saved.mapSet });
    Object.assign(array, { some: saved.some, find: saved.find, findIndex: saved.findIndex });
  }
  return n;
}

function lintWork(text: string): number {
  return countWork(() => {
    const loaded = parseManifests(text, "wf.yaml");
    const library = Library.from(loaded.manifests);
    for (const m of loaded.manifests) validate(m, library);
  });
}

const INPUTS: Record<string, (n: number) => string> = {
  labels: (n) =>
    `${HEAD}  labels:\n${Array.from({ length: n }, (_, i) => `    l${i}: v\n`).join("")}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine}\n`,
  "unknown fields, each reported with its position": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container:\n      image: alpine\n${Array.from({ length: n }, (_, i) => `      f${i}: 1\n`).join("")}`,
  "steps, each calling its own template": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n${Array.from({ length: n }, (_, i) => `    - - name: s${i}\n        template: t${i}\n`).join("")}${Array.from({ length: n }, (_, i) => `  - name: t${i}\n    container: {image: alpine}\n`).join("")}`,
  "a chain of DAG tasks": (n) =>
    `${HEAD}spec:\n  entrypoint: main\n  templates:\n  - name: c\n    container: {image: alpine}\n  - name: main\n    dag:\n      tasks:\n${Array.from({ length: n }, (_, i) => `      - name: s${i}\n        template: c\n${i > 0 ? `        depends: s${i - 1}\n` : ""}`).join("")}`,
};

describe("linear work", () => {
  for (const [name, make] of Object.entries(INPUTS)) {
    it(`lints ${name} in work proportional to their number`, () => {
      const small = lintWork(make(1000));
      const large = lintWork(make(2000));
      expect(large / small).toBeLessThan(2.5);
    });
  }
});
