import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";

/** `env_start` and `env_end` are fields 50 and 51 of `/proc/<pid>/stat` (proc(5), Linux 3.5 and later). */
const ENV_START_FIELD = 50;

/**
 * Overwrites, with `*`, the values of `names` in the environment block the process started with, which Linux
 * keeps on the process's stack and shows as `/proc/<pid>/environ` to every process of the same user:
 * deleting a variable from `process.env` leaves it there. Call it only for variables already deleted, so
 * nothing still reads them. Best effort: returns false where the block cannot be rewritten (not Linux, or
 * `/proc/self/mem` not writable), and then the values stay visible there.
 */
export function scrubProcEnviron(names: readonly string[], procSelf = "/proc/self"): boolean {
  if (process.platform !== "linux" || names.length === 0) return false;
  try {
    const stat = readFileSync(`${procSelf}/stat`, "utf8");
    // Fields are counted from 1; the command name (field 2) may hold spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(rest[ENV_START_FIELD - 3]);
    const end = Number(rest[ENV_START_FIELD - 2]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= 0 || end <= start)
      return false;
    const block = Buffer.alloc(end - start);
    const fd = openSync(`${procSelf}/mem`, "r+");
    try {
      if (readSync(fd, block, 0, block.length, start) !== block.length) return false;
      let changed = false;
      for (let i = 0; i < block.length;) {
        let stop = block.indexOf(0, i);
        if (stop < 0) stop = block.length;
        const eq = block.indexOf(0x3d, i);
        if (eq > i && eq < stop && names.includes(block.toString("utf8", i, eq))) {
          block.fill(0x2a, eq + 1, stop);
          changed = true;
        }
        i = stop + 1;
      }
      if (changed) writeSync(fd, block, 0, block.length, start);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}
