import { tokenize } from "./lexer.js";
import type { Token } from "./lexer.js";
import { EvalError } from "./values.js";

/** expr-lang syntax tree. `pos` is the 0-based offset of the node's first token. */
export type Node =
  | { k: "nil"; pos: number }
  | { k: "bool"; v: boolean; pos: number }
  | { k: "int"; v: bigint; pos: number }
  | { k: "float"; v: number; pos: number }
  | { k: "str"; v: string; pos: number }
  | { k: "ident"; name: string; pos: number }
  | { k: "pointer"; name: string; pos: number }
  | { k: "unary"; op: string; node: Node; pos: number }
  | { k: "binary"; op: string; left: Node; right: Node; pos: number }
  | { k: "member"; node: Node; prop: Node; optional: boolean; pos: number }
  | { k: "slice"; node: Node; from?: Node; to?: Node; pos: number }
  | { k: "call"; callee: Node; args: Node[]; pos: number }
  | { k: "method"; node: Node; name: string; args: Node[]; pos: number }
  | { k: "closure"; node: Node; pos: number }
  | { k: "cond"; cond: Node; a: Node; b: Node; pos: number }
  | { k: "array"; items: Node[]; pos: number }
  | { k: "map"; pairs: { key: Node; value: Node }[]; pos: number }
  | { k: "let"; name: string; value: Node; body: Node; pos: number }
  | { k: "chain"; node: Node; pos: number };

interface Op {
  prec: number;
  right?: boolean;
}

const binary: Record<string, Op> = {
  "|": { prec: 0 },
  or: { prec: 10 },
  "||": { prec: 10 },
  and: { prec: 15 },
  "&&": { prec: 15 },
  "==": { prec: 20 },
  "!=": { prec: 20 },
  "<": { prec: 20 },
  ">": { prec: 20 },
  ">=": { prec: 20 },
  "<=": { prec: 20 },
  in: { prec: 20 },
  matches: { prec: 20 },
  contains: { prec: 20 },
  startsWith: { prec: 20 },
  endsWith: { prec: 20 },
  "..": { prec: 25 },
  "+": { prec: 30 },
  "-": { prec: 30 },
  "*": { prec: 60 },
  "/": { prec: 60 },
  "%": { prec: 60 },
  "**": { prec: 100, right: true },
  "^": { prec: 100, right: true },
  "??": { prec: 500 },
};

const unary: Record<string, number> = { not: 50, "!": 50, "-": 90, "+": 90 };
const comparisons = new Set(["==", "!=", "<", ">", ">=", "<="]);
const negatable = new Set(["in", "matches", "contains", "startsWith", "endsWith"]);

/** Builtins whose second argument is a predicate (closure) over `#`. */
export const predicateBuiltins = new Set([
  "all",
  "none",
  "any",
  "one",
  "filter",
  "map",
  "find",
  "findIndex",
  "findLast",
  "findLastIndex",
  "count",
  "sum",
  "groupBy",
  "sortBy",
  "reduce",
]);

/** Parses an expr-lang expression (v1.17 grammar). Throws EvalError carrying the offset of the problem. */
export function parse(text: string): Node {
  return new Parser(tokenize(text)).parseProgram();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  private get current(): Token {
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1] ?? { kind: "eof", value: "", pos: 0 };
  }

  private is(kind: Token["kind"], value?: string): boolean {
    const t = this.current;
    return t.kind === kind && (value === undefined || t.value === value);
  }

  private next(): void {
    if (this.i < this.tokens.length - 1) this.i += 1;
  }

  private fail(message: string, token: Token = this.current): never {
    throw new EvalError(message, token.pos);
  }

  private describe(t: Token): string {
    if (t.kind === "eof") return "EOF";
    const kind = {
      number: "Number",
      string: "String",
      ident: "Identifier",
      op: "Operator",
      bracket: "Bracket",
    }[t.kind];
    return `${kind}(${JSON.stringify(t.value)})`;
  }

  private expect(kind: Token["kind"], value?: string): Token {
    if (!this.is(kind, value)) {
      if (value === ")" && this.current.kind === "eof")
        this.fail("unexpected token EOF (an opened parenthesis is not properly closed)");
      this.fail(`unexpected token ${this.describe(this.current)}`);
    }
    const t = this.current;
    this.next();
    return t;
  }

  parseProgram(): Node {
    if (this.is("eof")) this.fail("unexpected token EOF");
    const node = this.parseExpression(0);
    if (!this.is("eof")) this.fail(`unexpected token ${this.describe(this.current)}`);
    return node;
  }

  private parseExpression(precedence: number): Node {
    if (precedence === 0 && this.is("op", "let")) return this.parseLet();
    if (precedence === 0 && this.is("op", "if")) return this.parseIf();
    let left = this.parsePrimary();
    let prevOp = "";
    for (;;) {
      let opToken = this.current;
      if (opToken.kind !== "op") break;
      let negate = false;
      if (opToken.value === "not") {
        const save = this.i;
        this.next();
        const follow = this.current;
        const op = binary[follow.value];
        if (follow.kind === "op" && negatable.has(follow.value) && op && op.prec >= precedence) {
          negate = true;
          opToken = follow;
        } else {
          this.i = save;
          break;
        }
      }
      const op = binary[opToken.value];
      if (!op || op.prec < precedence) break;
      this.next();
      if (opToken.value === "|") {
        const name = this.expect("ident");
        left = this.parseCall(name, [left]);
        prevOp = "|";
        continue;
      }
      if (prevOp === "??" && opToken.value !== "??") {
        this.fail(
          `Operator (${opToken.value}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.`,
          opToken,
        );
      }
      if (comparisons.has(opToken.value)) {
        left = this.parseComparison(left, opToken, op.prec);
        prevOp = opToken.value;
        continue;
      }
      const right = this.parseExpression(op.right ? op.prec : op.prec + 1);
      left = { k: "binary", op: opToken.value, left, right, pos: opToken.pos };
      if (negate) left = { k: "unary", op: "not", node: left, pos: opToken.pos };
      prevOp = opToken.value;
    }
    if (precedence === 0) left = this.parseConditional(left);
    return left;
  }

  /** `a < b < c` is `a < b && b < c` in expr-lang. */
  private parseComparison(left: Node, opToken: Token, prec: number): Node {
    let rootNode: Node | undefined;
    let lhs = left;
    let tok = opToken;
    for (;;) {
      const right = this.parseExpression(prec + 1);
      const cmp: Node = { k: "binary", op: tok.value, left: lhs, right, pos: tok.pos };
      rootNode = rootNode ? { k: "binary", op: "&&", left: rootNode, right: cmp, pos: tok.pos } : cmp;
      if (this.is("op") && comparisons.has(this.current.value)) {
        tok = this.current;
        this.next();
        lhs = right;
        continue;
      }
      return rootNode;
    }
  }

  private parseConditional(node: Node): Node {
    let cond = node;
    while (this.is("op", "?")) {
      const pos = this.current.pos;
      this.next();
      let a: Node;
      let b: Node;
      if (this.is("op", ":")) {
        this.next();
        a = cond;
        b = this.parseExpression(0);
      } else {
        a = this.parseExpression(0);
        this.expect("op", ":");
        b = this.parseExpression(0);
      }
      cond = { k: "cond", cond, a, b, pos };
    }
    return cond;
  }

  private parseLet(): Node {
    const pos = this.current.pos;
    this.next();
    const name = this.expect("ident");
    this.expect("op", "=");
    const value = this.parseExpression(0);
    this.expect("op", ";");
    const body = this.parseExpression(0);
    return { k: "let", name: name.value, value, body, pos };
  }

  private parseIf(): Node {
    const pos = this.current.pos;
    this.next();
    const cond = this.parseExpression(0);
    this.expect("bracket", "{");
    const a = this.parseExpression(0);
    this.expect("bracket", "}");
    this.expect("op", "else");
    let b: Node;
    if (this.is("op", "if")) b = this.parseIf();
    else {
      this.expect("bracket", "{");
      b = this.parseExpression(0);
      this.expect("bracket", "}");
    }
    return { k: "cond", cond, a, b, pos };
  }

  private parsePrimary(): Node {
    const t = this.current;
    if (t.kind === "op" && t.value in unary) {
      this.next();
      const node = this.parseExpression(unary[t.value] ?? 0);
      return this.parsePostfix({ k: "unary", op: t.value, node, pos: t.pos });
    }
    if (t.kind === "bracket" && t.value === "(") {
      this.next();
      const node = this.parseExpression(0);
      this.expect("bracket", ")");
      return this.parsePostfix(node);
    }
    if (t.kind === "op" && (t.value === "#" || t.value === ".")) {
      if (this.depth === 0) this.fail("cannot use pointer accessor outside predicate");
      let name = "";
      if (t.value === "#") {
        this.next();
        if (this.is("ident")) {
          name = this.current.value;
          this.next();
        }
      }
      return this.parsePostfix({ k: "pointer", name, pos: t.pos });
    }
    return this.parseSecondary();
  }

  private parseSecondary(): Node {
    const t = this.current;
    let node: Node;
    switch (t.kind) {
      case "ident":
        this.next();
        if (t.value === "true" || t.value === "false")
          node = { k: "bool", v: t.value === "true", pos: t.pos };
        else if (t.value === "nil") node = { k: "nil", pos: t.pos };
        else if (this.is("bracket", "(")) node = this.parseCall(t, []);
        else node = { k: "ident", name: t.value, pos: t.pos };
        break;
      case "number":
        this.next();
        node = parseNumber(t);
        break;
      case "string":
        this.next();
        node = { k: "str", v: t.value, pos: t.pos };
        break;
      case "bracket":
        if (t.value === "[") node = this.parseArray();
        else if (t.value === "{") node = this.parseMap();
        else this.fail(`unexpected token ${this.describe(t)}`);
        break;
      default:
        this.fail(`unexpected token ${this.describe(t)}`);
    }
    return this.parsePostfix(node);
  }

  private parseCall(name: Token, initial: Node[]): Node {
    const pos = name.pos;
    this.expect("bracket", "(");
    const args = [...initial];
    const isPredicate = predicateBuiltins.has(name.value);
    while (!this.is("bracket", ")")) {
      if (args.length > initial.length) this.expect("op", ",");
      if (this.is("bracket", ")")) break;
      if (isPredicate && args.length === 1) args.push(this.parseClosure());
      else args.push(this.parseExpression(0));
      if (this.is("eof")) this.fail("unexpected token EOF (an opened parenthesis is not properly closed)");
    }
    this.expect("bracket", ")");
    return { k: "call", callee: { k: "ident", name: name.value, pos }, args, pos };
  }

  private parseClosure(): Node {
    const pos = this.current.pos;
    const braces = this.is("bracket", "{");
    if (braces) this.next();
    this.depth += 1;
    const node = this.parseExpression(0);
    this.depth -= 1;
    if (braces) this.expect("bracket", "}");
    return { k: "closure", node, pos };
  }

  private parseArray(): Node {
    const pos = this.current.pos;
    this.next();
    const items: Node[] = [];
    while (!this.is("bracket", "]")) {
      if (items.length > 0) {
        this.expect("op", ",");
        if (this.is("bracket", "]")) break;
      }
      items.push(this.parseExpression(0));
      if (this.is("eof")) this.fail("unexpected token EOF");
    }
    this.expect("bracket", "]");
    return { k: "array", items, pos };
  }

  private parseMap(): Node {
    const pos = this.current.pos;
    this.next();
    const pairs: { key: Node; value: Node }[] = [];
    while (!this.is("bracket", "}")) {
      if (pairs.length > 0) {
        this.expect("op", ",");
        if (this.is("bracket", "}")) break;
      }
      const t = this.current;
      let key: Node;
      if (t.kind === "number" || t.kind === "string" || t.kind === "ident") {
        this.next();
        key = t.kind === "number" ? parseNumber(t) : { k: "str", v: t.value, pos: t.pos };
      } else if (t.kind === "op" && /^[A-Za-z]/.test(t.value)) {
        this.next();
        key = { k: "str", v: t.value, pos: t.pos };
      } else if (t.kind === "bracket" && t.value === "(") {
        key = this.parseExpression(0);
      } else {
        this.fail(
          "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses",
        );
      }
      this.expect("op", ":");
      pairs.push({ key, value: this.parseExpression(0) });
      if (this.is("eof")) this.fail("unexpected token EOF");
    }
    this.expect("bracket", "}");
    return { k: "map", pairs, pos };
  }

  private parsePostfix(start: Node): Node {
    let node = start;
    let optionalSeen = false;
    for (;;) {
      const t = this.current;
      if (t.kind === "op" && (t.value === "." || t.value === "?.")) {
        const optional = t.value === "?.";
        this.next();
        if (optional && this.is("bracket", "[")) {
          optionalSeen = true;
          node = this.parseIndex(node, true);
          continue;
        }
        const prop = this.current;
        if (prop.kind !== "ident" && !(prop.kind === "op" && /^[A-Za-z]/.test(prop.value)))
          this.fail("expected name", prop);
        this.next();
        if (this.is("bracket", "(")) {
          const args = this.parseArguments();
          node = { k: "method", node, name: prop.value, args, pos: prop.pos };
        } else {
          node = {
            k: "member",
            node,
            prop: { k: "str", v: prop.value, pos: prop.pos },
            optional,
            pos: prop.pos,
          };
        }
        if (optional) optionalSeen = true;
        continue;
      }
      if (t.kind === "bracket" && t.value === "[") {
        node = this.parseIndex(node, false);
        continue;
      }
      break;
    }
    return optionalSeen ? { k: "chain", node, pos: start.pos } : node;
  }

  private parseIndex(node: Node, optional: boolean): Node {
    const pos = this.current.pos;
    this.expect("bracket", "[");
    if (this.is("op", ":")) {
      this.next();
      const to = this.is("bracket", "]") ? undefined : this.parseExpression(0);
      this.expect("bracket", "]");
      return { k: "slice", node, ...(to ? { to } : {}), pos };
    }
    const from = this.parseExpression(0);
    if (this.is("op", ":")) {
      this.next();
      const to = this.is("bracket", "]") ? undefined : this.parseExpression(0);
      this.expect("bracket", "]");
      return { k: "slice", node, from, ...(to ? { to } : {}), pos };
    }
    this.expect("bracket", "]");
    return { k: "member", node, prop: from, optional, pos };
  }

  private parseArguments(): Node[] {
    this.expect("bracket", "(");
    const args: Node[] = [];
    while (!this.is("bracket", ")")) {
      if (args.length > 0) this.expect("op", ",");
      args.push(this.parseExpression(0));
      if (this.is("eof")) this.fail("unexpected token EOF (an opened parenthesis is not properly closed)");
    }
    this.expect("bracket", ")");
    return args;
  }
}

function parseNumber(t: Token): Node {
  const text = t.value.replace(/_/g, "");
  if (/^0[xX]/.test(text)) return { k: "int", v: BigInt(text), pos: t.pos };
  if (/^0[oO]/.test(text)) return { k: "int", v: BigInt(`0o${text.slice(2)}`), pos: t.pos };
  if (/^0[bB]/.test(text)) return { k: "int", v: BigInt(`0b${text.slice(2)}`), pos: t.pos };
  if (/^\d+$/.test(text)) {
    const v = BigInt(text);
    if (v > 9223372036854775807n) throw new EvalError(`invalid integer literal: ${t.value}`, t.pos);
    return { k: "int", v, pos: t.pos };
  }
  const f = Number(text);
  if (Number.isNaN(f)) throw new EvalError(`invalid float literal: ${t.value}`, t.pos);
  return { k: "float", v: f, pos: t.pos };
}
