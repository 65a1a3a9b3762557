/** `{{...}}` tags in a string, as fasttemplate finds them (Argo's template engine). */
export function findTags(text: string): string[] {
  const tags: string[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf("{{", from);
    if (start < 0) return tags;
    const end = text.indexOf("}}", start + 2);
    if (end < 0) return tags;
    tags.push(text.slice(start + 2, end));
    from = end + 2;
  }
}

/** Every string inside a JSON-like value (what Argo scans after serializing a template to JSON). */
export function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes("{{")) out.push(k);
      collectStrings(v, out);
    }
  }
  return out;
}
