import { EvalError } from "./values.js";

export type TokenKind = "number" | "string" | "ident" | "op" | "bracket" | "eof";

export interface Token {
  kind: TokenKind;
  value: string;
  /** 0-based offset of the token in the expression. */
  pos: number;
}

const wordOperators = new Set([
  "and",
  "or",
  "not",
  "in",
  "matches",
  "contains",
  "startsWith",
  "endsWith",
  "let",
  "if",
  "else",
]);
const multiCharOperators = ["**", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..", "::"];

/** Splits an expr-lang expression into tokens; throws EvalError with the offset of a bad character. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i += 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new EvalError("unclosed comment", i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (
      /[0-9]/.test(c) ||
      (c === "." && /[0-9]/.test(text[i + 1] ?? "") && !/[\w)\]]/.test(text[i - 1] ?? ""))
    ) {
      i = scanNumber(text, i);
      tokens.push({ kind: "number", value: text.slice(start, i), pos: start });
      continue;
    }
    if (c === '"' || c === "'") {
      const [value, end] = scanString(text, i);
      tokens.push({ kind: "string", value, pos: start });
      i = end;
      continue;
    }
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end < 0) throw new EvalError("literal not terminated", i);
      tokens.push({ kind: "string", value: text.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c) || c.charCodeAt(0) > 127) {
      while (
        i < text.length &&
        (/[\w$]/.test(text[i] ?? "") || (text.charCodeAt(i) > 127 && /\p{L}|\p{N}/u.test(text[i] ?? "")))
      )
        i += 1;
      const word = text.slice(start, i);
      tokens.push({ kind: wordOperators.has(word) ? "op" : "ident", value: word, pos: start });
      continue;
    }
    if ("()[]{}".includes(c)) {
      tokens.push({ kind: "bracket", value: c, pos: start });
      i += 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (multiCharOperators.includes(two)) {
      tokens.push({ kind: "op", value: two, pos: start });
      i += 2;
      continue;
    }
    if ("+-*/%^<>!?:.,|#=;".includes(c)) {
      tokens.push({ kind: "op", value: c, pos: start });
      i += 1;
      continue;
    }
    throw new EvalError(
      `unrecognized character: U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")} '${c}'`,
      i,
    );
  }
  tokens.push({ kind: "eof", value: "", pos: text.length });
  return tokens;
}

function scanNumber(text: string, start: number): number {
  let i = start;
  if (text[i] === "0" && /[xXoObB]/.test(text[i + 1] ?? "")) {
    i += 2;
    while (/[0-9a-fA-F_]/.test(text[i] ?? "")) i += 1;
    return i;
  }
  while (/[0-9_]/.test(text[i] ?? "")) i += 1;
  if (text[i] === "." && text[i + 1] !== ".") {
    i += 1;
    while (/[0-9_]/.test(text[i] ?? "")) i += 1;
  }
  if (/[eE]/.test(text[i] ?? "") && /[0-9+-]/.test(text[i + 1] ?? "")) {
    i += 2;
    while (/[0-9]/.test(text[i] ?? "")) i += 1;
  }
  if (/[A-Za-z_]/.test(text[i] ?? ""))
    throw new EvalError(`bad number syntax: "${text.slice(start, i + 1)}"`, start);
  return i;
}

const simpleEscapes: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** Reads a quoted string with Go-style escapes; returns the value and the offset after the closing quote. */
function scanString(text: string, start: number): [string, number] {
  const quote = text[start];
  let i = start + 1;
  let out = "";
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === quote) return [out, i + 1];
    if (c === "\n") break;
    if (c === "\\") {
      const n = text[i + 1] ?? "";
      if (n in simpleEscapes) {
        out += simpleEscapes[n];
        i += 2;
        continue;
      }
      const hex = n === "x" ? 2 : n === "u" ? 4 : n === "U" ? 8 : 0;
      if (hex > 0) {
        const digits = text.slice(i + 2, i + 2 + hex);
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) throw new EvalError("invalid char escape", i);
        out += String.fromCodePoint(parseInt(digits, 16));
        i += 2 + hex;
        continue;
      }
      if (/[0-7]/.test(n)) {
        const digits = text.slice(i + 1, i + 4);
        if (!/^[0-7]{3}$/.test(digits)) throw new EvalError("invalid char escape", i);
        out += String.fromCharCode(parseInt(digits, 8));
        i += 4;
        continue;
      }
      throw new EvalError("invalid char escape", i);
    }
    out += c;
    i += 1;
  }
  throw new EvalError("literal not terminated", start);
}
