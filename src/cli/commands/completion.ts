import { Command, Argument } from "commander";
import { bashCompletion, describeCommands, fishCompletion, zshCompletion } from "../completion.js";
import { EXIT } from "../exit.js";

/** `skiff completion bash|zsh|fish`: prints a completion script for the whole command tree. */
export function completionCommand(setExitCode: (c: number) => void): Command {
  return new Command("completion")
    .description("Print a shell completion script (commands, flags, workflow names)")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh", "fish"]))
    .addHelpText(
      "after",
      `
Examples:
  source <(skiff completion bash)          # in ~/.bashrc
  source <(skiff completion zsh)           # in ~/.zshrc
  skiff completion fish | source           # in ~/.config/fish/config.fish

Workflow names are completed from skiff list -o name (and skiff archive list -o name).`,
    )
    .action((shell: string, _o: unknown, cmd: Command) => {
      const program = cmd.parent ?? cmd;
      const cmds = describeCommands(program);
      const script =
        shell === "bash"
          ? bashCompletion(cmds)
          : shell === "zsh"
            ? zshCompletion(cmds)
            : fishCompletion(cmds);
      process.stdout.write(script);
      setExitCode(EXIT.ok);
    });
}
