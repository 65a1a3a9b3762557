/** A deterministic measure of work, for tests that bound it without timing. */

/** Counts elementary operations done by `run` (synchronous code only). */
export function countWork(run: () => void): number {
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
