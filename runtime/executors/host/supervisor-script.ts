/**
 * The step supervisor's program, run with `node -e` so that a bundle needs no second file. It is plain
 * JavaScript (CommonJS, no dependencies) and kept small: the process forking every step should be small,
 * since forking costs in proportion to the forking process's memory.
 *
 * Protocol: one JSON object per line. On stdin, from the executor that started it:
 * - `{"op":"run","id":N,"dir":D,"name":C,"file":F,"args":[...],"cwd":W,"env":{...},"fresh":B,"meta":S}`
 *   starts `file` in its own session and process group with stdout and stderr redirected to `D/C.out` and
 *   `D/C.err` (to /dev/null without `dir`). `fresh` first empties `dir`; `meta` is written to `D/step.json`.
 * - `{"op":"rm","path":P}` removes a folder (off the executor's thread).
 * - `{"op":"quit"}` kills every running group and exits once they are gone.
 * On stdout: `{"id":N,"pid":P}` once started, then `{"id":N,"exit":E,"out":BYTES,"err":BYTES}` (plus `"error"`
 * when it could not start; E is 128+signal for a signal, as a container runtime reports it).
 *
 * Each start and end is also written to `D/C.status` (one JSON line each: `{"pid","supervisor","startedAt"}`
 * then `{"exitCode","finishedAt"}`), before it is reported, so that a later controller finds how a step ended
 * while no controller ran. The leader's exit kills what is left of its group. When stdin closes (the
 * controller is gone) running steps carry on; the supervisor exits once none is left. Nothing but the
 * controller's `quit` stops a step here: the controller sends the signals of a kill itself, to the group.
 */
export const SUPERVISOR_SOURCE = String.raw`"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { signals } = require("node:os").constants;
const running = new Map();
let connected = true;
process.stdout.on("error", () => { connected = false; });
function send(m) { if (connected) process.stdout.write(JSON.stringify(m) + "\n"); }
function closeFd(fd) { if (typeof fd === "number") try { fs.closeSync(fd); } catch {} }
function sizeOf(fd) { if (typeof fd !== "number") return 0; try { return fs.fstatSync(fd).size; } catch { return 0; } }
function run(m) {
  let out = "ignore", err = "ignore", status;
  try {
    if (m.dir) {
      if (m.fresh) fs.rmSync(m.dir, { recursive: true, force: true });
      fs.mkdirSync(m.dir, { recursive: true });
      if (m.meta) fs.writeFileSync(path.join(m.dir, "step.json"), m.meta);
      out = fs.openSync(path.join(m.dir, m.name + ".out"), "w");
      err = fs.openSync(path.join(m.dir, m.name + ".err"), "w");
      status = path.join(m.dir, m.name + ".status");
    }
  } catch (e) {
    closeFd(out); closeFd(err);
    send({ id: m.id, exit: 127, out: 0, err: 0, error: "cannot prepare the step's records: " + e.message });
    return;
  }
  const startedAt = Date.now();
  let child;
  const fail = (e) => {
    closeFd(out); closeFd(err);
    running.delete(m.id);
    if (status) try { fs.writeFileSync(status, JSON.stringify({ exitCode: 127, finishedAt: Date.now(), error: e.message }) + "\n", { flag: "a" }); } catch {}
    send({ id: m.id, exit: 127, out: 0, err: 0, code: e.code, error: e.message });
  };
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: ["ignore", out, err] });
  } catch (e) { fail(e); return; }
  if (child.pid === undefined) { child.on("error", fail); return; }
  const pid = child.pid;
  running.set(m.id, pid);
  if (status) try { fs.writeFileSync(status, JSON.stringify({ pid, supervisor: process.pid, startedAt }) + "\n"); } catch {}
  send({ id: m.id, pid });
  child.on("error", () => undefined);
  child.on("exit", (code, signal) => {
    try { process.kill(-pid, "SIGKILL"); } catch {}
    const exit = code !== null ? code : signal && signals[signal] !== undefined ? 128 + signals[signal] : null;
    const o = sizeOf(out), e = sizeOf(err);
    closeFd(out); closeFd(err);
    if (status) try { fs.writeFileSync(status, JSON.stringify({ exitCode: exit, finishedAt: Date.now() }) + "\n", { flag: "a" }); } catch {}
    running.delete(m.id);
    send({ id: m.id, exit, out: o, err: e });
  });
}
let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    let m;
    try { m = JSON.parse(line); } catch { continue; }
    if (m.op === "run") run(m);
    else if (m.op === "rm") fs.rm(m.path, { recursive: true, force: true, maxRetries: 3 }, () => undefined);
    else if (m.op === "quit") {
      for (const pid of running.values()) try { process.kill(-pid, "SIGKILL"); } catch {}
      process.stdin.destroy();
    }
  }
});
// Once stdin is closed, only running steps (and pending removals) keep this process: it ends after them.
process.stdin.on("end", () => { connected = false; });
process.stdin.on("error", () => { connected = false; });
`;
