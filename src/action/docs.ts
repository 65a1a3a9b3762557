import { parse as parseYaml } from "yaml";

interface ActionYml {
  inputs?: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs?: Record<string, { description?: string }>;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

/**
 * The inputs and outputs tables of the docs, generated from `action.yml` so the two cannot drift. Docs hold
 * them between `<!-- action-inputs:start -->` and `<!-- action-inputs:end -->`.
 */
export function renderActionTables(actionYml: string): string {
  const action = parseYaml(actionYml) as ActionYml;
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([name, i]) =>
      `| \`${name}\` | ${cell(i.description ?? "")} | ${i.default === undefined || i.default === "" ? "" : `\`${cell(String(i.default))}\``} |`,
  );
  const outputs = Object.entries(action.outputs ?? {}).map(
    ([name, o]) => `| \`${name}\` | ${cell(o.description ?? "")} |`,
  );
  return [
    "| input | description | default |",
    "|---|---|---|",
    ...inputs,
    "",
    "| output | description |",
    "|---|---|",
    ...outputs,
  ].join("\n");
}

export const TABLE_START = "<!-- action-inputs:start -->";
export const TABLE_END = "<!-- action-inputs:end -->";

/** Replaces the generated tables in a markdown document. */
export function replaceActionTables(markdown: string, actionYml: string): string {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) return markdown;
  return `${markdown.slice(0, start + TABLE_START.length)}\n${renderActionTables(actionYml)}\n${markdown.slice(end)}`;
}
