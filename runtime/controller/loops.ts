import { SkiffError } from "../errors/index.js";
import { SPEC_CODES } from "../spec/codes.js";
import { SPEC_LIMITS } from "../spec/limits.js";
import type { Item, Sequence } from "../spec/types.js";
import { CONTROLLER_CODES } from "./codes.js";

const C = CONTROLLER_CODES;

/** One loop iteration: its index, Argo's node-name description and the `item` variables it brings. */
export interface LoopItem {
  index: number;
  desc: string;
  vars: Map<string, string>;
}

/** `withParam` text -> items. Argo's message when the text is not a JSON list. */
export function parseWithParam(value: string): Item[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new SkiffError(
      C["SKF-CTRL-004"],
      `withParam value could not be parsed as a JSON list: ${value}: ${(e as Error).message}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new SkiffError(
      C["SKF-CTRL-004"],
      `withParam value could not be parsed as a JSON list: ${value}: json: cannot unmarshal into Go value of type []wfv1.Item`,
    );
  }
  return parsed as Item[];
}

/** `withSequence` (already substituted) -> string items rendered with `format`. */
export function expandSequence(seq: Sequence): Item[] {
  const num = (v: unknown, field: string): number => {
    const n = typeof v === "number" ? v : Number(String(v).trim());
    if (!Number.isInteger(n)) {
      throw new SkiffError(C["SKF-CTRL-004"], `failed to parse sequence ${field} '${String(v)}'`);
    }
    return n;
  };
  const start = seq.start === undefined || seq.start === "" ? 0 : num(seq.start, "start");
  let end: number;
  if (seq.count !== undefined && seq.count !== "") {
    const count = num(seq.count, "count");
    if (count === 0) return [];
    end = start + count - 1;
  } else if (seq.end !== undefined && seq.end !== "") {
    end = num(seq.end, "end");
  } else {
    throw new SkiffError(C["SKF-CTRL-004"], "neither end nor count was specified in withSequence");
  }
  const width = Math.abs(end - start) + 1;
  if (width > SPEC_LIMITS.maxLoopWidth) {
    throw new SkiffError(
      SPEC_CODES["SKF-SPEC-084"],
      `withSequence expands to ${width} items, more than the limit of ${SPEC_LIMITS.maxLoopWidth}`,
    );
  }
  const format = seq.format ?? "%d";
  const out: Item[] = [];
  if (end >= start) for (let i = start; i <= end; i++) out.push(sprintfInt(format, i));
  else for (let i = start; i >= end; i--) out.push(sprintfInt(format, i));
  return out;
}

/** Enough of Go's printf for one integer argument (`%d`, `%03d`, `%5d`, `%x`, `%X`, `%o`, `%s`, `%v`). */
export function sprintfInt(format: string, n: number): string {
  return format.replace(/%([-0]?)(\d*)([dxXosvf%])/g, (_m, flag: string, width: string, verb: string) => {
    if (verb === "%") return "%";
    let s: string;
    switch (verb) {
      case "x":
        s = n.toString(16);
        break;
      case "X":
        s = n.toString(16).toUpperCase();
        break;
      case "o":
        s = n.toString(8);
        break;
      case "f":
        s = n.toFixed(6);
        break;
      default:
        s = String(n);
    }
    const w = width ? Number(width) : 0;
    if (s.length < w) {
      if (flag === "-") s = s.padEnd(w, " ");
      else if (flag === "0") s = n < 0 ? "-" + s.slice(1).padStart(w - 1, "0") : s.padStart(w, "0");
      else s = s.padStart(w, " ");
    }
    return s;
  });
}

/** Go's JSON for an item: map keys sorted. */
export function itemJson(v: Item): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(itemJson).join(",") + "]";
  return (
    "{" +
    Object.keys(v)
      .sort()
      .map((k) => JSON.stringify(k) + ":" + itemJson(v[k] as Item))
      .join(",") +
    "}"
  );
}

/** The string `{{item}}`/`{{item.k}}` gives for a value: strings raw, the rest as JSON. */
export function itemString(v: Item): string {
  return typeof v === "string" ? v : itemJson(v);
}

/** Go's `fmt` rendering of a value (`[a b]`, `map[k:v]`), used for list item descriptions. */
function goFormat(v: Item): string {
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return "[" + v.map(goFormat).join(" ") + "]";
  if (typeof v === "object") {
    return (
      "map[" +
      Object.keys(v)
        .sort()
        .map((k) => `${k}:${goFormat(v[k] as Item)}`)
        .join(" ") +
      "]"
    );
  }
  return String(v);
}

/** Argo's `<desc>` part of a loop child's name `(index:desc)`, parentheses removed. */
export function itemDescription(v: Item): string {
  let desc: string;
  if (typeof v === "string") desc = v;
  else if (v === null || typeof v === "number" || typeof v === "boolean") desc = JSON.stringify(v);
  else if (Array.isArray(v)) desc = goFormat(v);
  else
    desc = Object.keys(v)
      .map((k) => `${k}:${itemString(v[k] as Item)}`)
      .sort()
      .join(",");
  return desc.replace(/[()]/g, "");
}

/** The variables an item brings into its iteration. */
export function itemVars(v: Item): Map<string, string> {
  const vars = new Map<string, string>();
  vars.set("item", itemString(v));
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) vars.set(`item.${k}`, itemString(val));
  }
  return vars;
}

export function toLoopItems(items: readonly Item[]): LoopItem[] {
  return items.map((v, index) => ({ index, desc: itemDescription(v), vars: itemVars(v) }));
}

/** The loop index of a loop child's node name (`x(3:foo)` -> 3), for ordering aggregated outputs. */
export function loopIndexOf(nodeName: string): number {
  const open = nodeName.lastIndexOf("(");
  if (open < 0) return -1;
  const colon = nodeName.indexOf(":", open);
  const end = colon < 0 ? nodeName.indexOf(")", open) : colon;
  return Number(nodeName.slice(open + 1, end));
}
