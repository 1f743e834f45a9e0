/**
 * A small strict XML parser for the report tests: it throws on anything that is not well-formed
 * (unclosed or mismatched tags, unquoted or duplicate attributes, bare `&` or `<`, text after the
 * root) and returns a tree to query. Enough for SVG and XHTML-style HTML; no DTDs or namespaces.
 */

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Direct text content, entities decoded. */
  text: string;
}

const NAME = /[A-Za-z_:][\w:.-]*/y;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s: string, at: number): string {
  return s.replace(/&([^;&\s]*);?/g, (m, body: string) => {
    if (!m.endsWith(";")) throw new Error(`bare "&" near offset ${at}`);
    if (body in ENTITIES) return ENTITIES[body]!;
    const num = /^#(\d+)$/.exec(body) ?? /^#x([0-9a-fA-F]+)$/.exec(body);
    if (num) return String.fromCodePoint(parseInt(num[1]!, body.startsWith("#x") ? 16 : 10));
    throw new Error(`unknown entity &${body}; near offset ${at}`);
  });
}

/** Parse a document; throws an Error describing the first problem and its offset. */
export function parseXml(src: string): XmlNode {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at offset ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
  };
  /** Move past the next `token`, which must exist. */
  const skipPast = (token: string) => {
    const j = src.indexOf(token, i);
    if (j < 0) fail(`missing ${JSON.stringify(token)}`);
    i = j + token.length;
  };
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      if (src.startsWith("<?", i)) skipPast("?>");
      else if (src.startsWith("<!--", i)) skipPast("-->");
      else if (src.startsWith("<!DOCTYPE", i)) skipPast(">");
      else return;
    }
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) return fail("expected a name");
    i += m[0].length;
    return m[0];
  };
  const element = (): XmlNode => {
    if (src[i] !== "<") fail('expected "<"');
    i++;
    const node: XmlNode = { name: name(), attrs: {}, children: [], text: "" };
    for (;;) {
      const ws = /\s/.test(src[i] ?? "");
      while (/\s/.test(src[i] ?? "")) i++;
      if (src.startsWith("/>", i)) {
        i += 2;
        return node;
      }
      if (src[i] === ">") {
        i++;
        break;
      }
      if (!ws) fail("expected whitespace before an attribute");
      const key = name();
      if (key in node.attrs) fail(`duplicate attribute ${key}`);
      if (src[i] !== "=") fail(`attribute ${key} without "="`);
      i++;
      const q = src[i];
      if (q !== '"' && q !== "'") fail(`attribute ${key} is not quoted`);
      const end = src.indexOf(q!, i + 1);
      if (end < 0) fail("unclosed attribute value");
      const raw = src.slice(i + 1, end);
      if (raw.includes("<")) fail(`"<" inside attribute ${key}`);
      node.attrs[key] = decode(raw, i);
      i = end + 1;
    }
    for (;;) {
      if (i >= src.length) fail(`unclosed <${node.name}>`);
      if (src.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== node.name) fail(`</${closing}> closes <${node.name}>`);
        while (/\s/.test(src[i] ?? "")) i++;
        if (src[i] !== ">") fail('expected ">"');
        i++;
        return node;
      }
      if (src.startsWith("<!--", i)) {
        skipPast("-->");
      } else if (src.startsWith("<![CDATA[", i)) {
        const end = src.indexOf("]]>", i);
        if (end < 0) fail("unclosed CDATA");
        node.text += src.slice(i + 9, end);
        i = end + 3;
      } else if (src[i] === "<") {
        node.children.push(element());
      } else {
        const end = src.indexOf("<", i);
        const stop = end < 0 ? src.length : end;
        node.text += decode(src.slice(i, stop), i);
        i = stop;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== src.length) fail("content after the root element");
  return root;
}

/** Every node in the tree (depth first) that satisfies `pred`. */
export function findAll(node: XmlNode, pred: (n: XmlNode) => boolean): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode) => {
    if (pred(n)) out.push(n);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

/** Nodes whose `class` attribute contains `cls`. */
export function byClass(node: XmlNode, cls: string): XmlNode[] {
  return findAll(node, (n) => (n.attrs.class ?? "").split(/\s+/).includes(cls));
}

/** All text below a node, concatenated. */
export function allText(node: XmlNode): string {
  return node.text + node.children.map(allText).join("");
}
