// Renders the ANSI SGR colours of log lines (ESC[...m) as styled segments; every other escape is dropped.

export interface AnsiSegment {
  text: string;
  /** CSS classes: `ansi-fg-1`, `ansi-bg-4`, `ansi-bold`, ... */
  classes: string[];
  /** Inline colour for 256-colour and true-colour codes. */
  color?: string;
  background?: string;
}

interface State {
  fg?: string;
  bg?: string;
  fgRgb?: string;
  bgRgb?: string;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

const ESCAPE = /\u001b\[([0-9;]*)([A-Za-z])/g;

function xterm256(n: number): string {
  if (n < 16) return `var(--ansi-${n})`;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x: number): number => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

function apply(state: State, params: number[]): void {
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? 0;
    if (p === 0)
      Object.assign(state, {
        fg: undefined,
        bg: undefined,
        fgRgb: undefined,
        bgRgb: undefined,
        bold: false,
        italic: false,
        underline: false,
      });
    else if (p === 1) state.bold = true;
    else if (p === 3) state.italic = true;
    else if (p === 4) state.underline = true;
    else if (p === 22) state.bold = false;
    else if (p === 23) state.italic = false;
    else if (p === 24) state.underline = false;
    else if (p >= 30 && p <= 37) [state.fg, state.fgRgb] = [String(p - 30), undefined];
    else if (p >= 90 && p <= 97) [state.fg, state.fgRgb] = [String(p - 90 + 8), undefined];
    else if (p === 39) [state.fg, state.fgRgb] = [undefined, undefined];
    else if (p >= 40 && p <= 47) [state.bg, state.bgRgb] = [String(p - 40), undefined];
    else if (p >= 100 && p <= 107) [state.bg, state.bgRgb] = [String(p - 100 + 8), undefined];
    else if (p === 49) [state.bg, state.bgRgb] = [undefined, undefined];
    else if (p === 38 || p === 48) {
      const mode = params[i + 1];
      let colour: string | undefined;
      if (mode === 5) {
        colour = xterm256(params[i + 2] ?? 0);
        i += 2;
      } else if (mode === 2) {
        colour = `rgb(${params[i + 2] ?? 0},${params[i + 3] ?? 0},${params[i + 4] ?? 0})`;
        i += 4;
      }
      if (p === 38) [state.fg, state.fgRgb] = [undefined, colour];
      else [state.bg, state.bgRgb] = [undefined, colour];
    }
  }
}

/** Splits one line of text into coloured segments. */
export function parseAnsi(line: string): AnsiSegment[] {
  const out: AnsiSegment[] = [];
  const state: State = { bold: false, italic: false, underline: false };
  let last = 0;
  const push = (text: string): void => {
    if (!text) return;
    const classes: string[] = [];
    if (state.fg) classes.push(`ansi-fg-${state.fg}`);
    if (state.bg) classes.push(`ansi-bg-${state.bg}`);
    if (state.bold) classes.push("ansi-bold");
    if (state.italic) classes.push("ansi-italic");
    if (state.underline) classes.push("ansi-underline");
    out.push({
      text,
      classes,
      ...(state.fgRgb ? { color: state.fgRgb } : {}),
      ...(state.bgRgb ? { background: state.bgRgb } : {}),
    });
  };
  for (const m of line.matchAll(ESCAPE)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === "m")
      apply(
        state,
        (m[1] ? m[1].split(";") : ["0"]).map((x) => Number(x || 0)),
      );
  }
  push(line.slice(last));
  return out;
}

/** The text of a line without its escapes (for search and download). */
export function stripAnsi(line: string): string {
  return line.replace(ESCAPE, "");
}
