import type { Command } from "commander";

/** What a completion script knows of one command. */
export interface CompletionCommand {
  /** `get`, or `archive get` for a subcommand. */
  path: string[];
  description: string;
  /** `-o`, `--output`, ... */
  flags: string[];
  /** Where the names it takes come from: live workflows, archived ones, files, or nothing. */
  operands: "workflows" | "archived" | "files" | "none";
  /** Subcommand names (for `archive`). */
  subcommands: string[];
}

/** Reads the command tree: every visible command and subcommand, its flags and what it takes. */
export function describeCommands(program: Command): CompletionCommand[] {
  const out: CompletionCommand[] = [];
  const visit = (cmd: Command, path: string[]) => {
    for (const sub of cmd.commands) {
      if (sub.name().startsWith("_")) continue;
      const p = [...path, sub.name()];
      const arg = sub.registeredArguments[0]?.name() ?? "";
      const operands = /^workflows?$/.test(arg)
        ? path[0] === "archive"
          ? "archived"
          : "workflows"
        : /^paths?$|^files?$/.test(arg)
          ? "files"
          : "none";
      const flags = sub.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
      out.push({
        path: p,
        description: sub.description(),
        flags: [...flags, "-h", "--help"],
        operands,
        subcommands: sub.commands.map((c) => c.name()),
      });
      visit(sub, p);
    }
  };
  visit(program, []);
  return out;
}

const LIST_NAMES = "skiff list -o name 2>/dev/null";
const LIST_ARCHIVED = "skiff archive list -o name 2>/dev/null";

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A bash completion script (`source <(skiff completion bash)`). */
export function bashCompletion(cmds: CompletionCommand[]): string {
  const top = cmds.filter((c) => c.path.length === 1);
  const cases = cmds
    .map((c) => {
      const source =
        c.operands === "workflows"
          ? `$(${LIST_NAMES})`
          : c.operands === "archived"
            ? `$(${LIST_ARCHIVED})`
            : "";
      return [
        `    "${c.path.join(" ")}")`,
        `      opts=${quote(c.flags.join(" "))}`,
        `      subs=${quote(c.subcommands.join(" "))}`,
        `      operands=${c.operands}`,
        source ? `      names="${source}"` : "",
        "      ;;",
      ]
        .filter(Boolean)
        .join("\n");
    })
    .join("\n");
  return `# bash completion for skiff: source <(skiff completion bash)
_skiff() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W ${quote(top.map((c) => c.path[0]).join(" "))} -- "$cur") )
    return
  fi
  local key="\${COMP_WORDS[1]}" opts="" subs="" operands=none names=""
  if [[ $COMP_CWORD -gt 2 && "\${COMP_WORDS[1]}" == archive ]]; then key="archive \${COMP_WORDS[2]}"; fi
  case "$key" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [[ -n "$subs" && $COMP_CWORD -eq 2 ]]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  elif [[ "$operands" == workflows || "$operands" == archived ]]; then
    COMPREPLY=( $(compgen -W "$names" -- "$cur") )
  elif [[ "$operands" == files ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F _skiff skiff
`;
}

/** A zsh completion script (`source <(skiff completion zsh)`, or saved as `_skiff` on the fpath). */
export function zshCompletion(cmds: CompletionCommand[]): string {
  const top = cmds.filter((c) => c.path.length === 1);
  const described = top
    .map((c) => `    ${quote(`${c.path[0]}:${c.description.replace(/:/g, "\\:")}`)}`)
    .join("\n");
  const cases = cmds
    .map(
      (c) =>
        `    ${quote(c.path.join(" "))}) opts=(${c.flags.map(quote).join(" ")}); subs=(${c.subcommands.join(" ")}); operands=${c.operands} ;;`,
    )
    .join("\n");
  return `#compdef skiff
# zsh completion for skiff: source <(skiff completion zsh)
_skiff() {
  local -a commands opts subs
  local operands=none key
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'skiff command' commands
    return
  fi
  key=\${words[2]}
  if [[ $key == archive && CURRENT -gt 3 ]]; then key="archive \${words[3]}"; fi
  case $key in
${cases}
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    compadd -- $opts
  elif (( \${#subs} > 0 && CURRENT == 3 )); then
    compadd -- $subs
  elif [[ $operands == workflows ]]; then
    compadd -- \${(f)"$(${LIST_NAMES})"}
  elif [[ $operands == archived ]]; then
    compadd -- \${(f)"$(${LIST_ARCHIVED})"}
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _skiff "$@"; else compdef _skiff skiff; fi
`;
}

/** A fish completion script (`skiff completion fish | source`). */
export function fishCompletion(cmds: CompletionCommand[]): string {
  const lines = ["# fish completion for skiff: skiff completion fish | source", "complete -c skiff -f"];
  for (const c of cmds.filter((x) => x.path.length === 1))
    lines.push(`complete -c skiff -n __fish_use_subcommand -a ${c.path[0]} -d ${quote(c.description)}`);
  for (const c of cmds) {
    const [first, second] = c.path;
    const cond =
      second === undefined
        ? `__fish_seen_subcommand_from ${first}`
        : `__fish_seen_subcommand_from ${first}; and __fish_seen_subcommand_from ${second}`;
    for (const f of c.flags) {
      const flag = f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`;
      lines.push(`complete -c skiff -n ${quote(cond)} ${flag}`);
    }
    for (const s of c.subcommands) lines.push(`complete -c skiff -n ${quote(cond)} -a ${s}`);
    if (c.operands === "workflows")
      lines.push(`complete -c skiff -n ${quote(cond)} -a ${quote(`(${LIST_NAMES})`)}`);
    else if (c.operands === "archived")
      lines.push(`complete -c skiff -n ${quote(cond)} -a ${quote(`(${LIST_ARCHIVED})`)}`);
    else if (c.operands === "files") lines.push(`complete -c skiff -n ${quote(cond)} -F`);
  }
  return lines.join("\n") + "\n";
}
