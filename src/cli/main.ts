import { Command, CommanderError } from "commander";
import { toSkiffError } from "../../runtime/errors/index.js";
import { printError } from "./output.js";
import { VERSION } from "../version.js";
import { EXIT } from "./exit.js";
import { runCommand } from "./commands/run.js";
import { controlCommands } from "./commands/control.js";
import { lintCommand } from "./commands/lint.js";
import { convertCommand } from "./commands/convert.js";
import { workflowCommands } from "./commands/workflow.js";
import { archiveCommand } from "./commands/archive.js";
import { completionCommand } from "./commands/completion.js";
import { ciCommand } from "./commands/ci.js";
import { registryCommands } from "./commands/registry.js";
import { serverCommand } from "./commands/server.js";

export { EXIT } from "./exit.js";

/** Builds the `skiff` command tree. Each command lives in `./commands/<name>.ts` and returns its exit code. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("skiff")
    .description("Run Argo Workflows from a repository: no cluster needed.")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(runCommand(setExitCode));
  for (const c of controlCommands(setExitCode)) program.addCommand(c);
  const workflow = workflowCommands(setExitCode);
  for (const c of workflow.commands) program.addCommand(c);
  for (const c of workflow.hidden) program.addCommand(c, { hidden: true });
  program.addCommand(archiveCommand(setExitCode));
  for (const c of registryCommands(setExitCode)) program.addCommand(c);
  program.addCommand(lintCommand(setExitCode));
  program.addCommand(convertCommand(setExitCode));
  program.addCommand(ciCommand(setExitCode));
  program.addCommand(completionCommand(setExitCode));
  program.addCommand(serverCommand(setExitCode));
  // Usage errors of any command are rejections (exit 2), not process.exit(1) from inside commander.
  const overrideExits = (cmd: Command) => {
    for (const sub of cmd.commands) overrideExits(sub.exitOverride());
  };
  overrideExits(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((c) => (exitCode = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT.rejected;
    printError(toSkiffError(e));
    return EXIT.rejected;
  }
}
