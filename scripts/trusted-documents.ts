// Trusted documents: every GraphQL document the web app sends, collected from its sources at build
// time and written as { sha256 hex of the exact text: text } to web/build/trusted-documents.json
// (build output, never committed). `npm run build` runs it after `vite build`; in production the
// server runs only these documents for requests from a browser (web/src/server/graphql/trusted-documents.ts).
//
// Every string or template literal in web/src/lib/**/*.ts and web/src/routes/** (not *.test.ts)
// that parses as a GraphQL document with an operation is one. A template's `${X}` is resolved when
// X is a top-level `const` string of the same file; a literal that looks like GraphQL but cannot be
// resolved, or does not parse, stops the build: no document the app sends can be missed silently.
//
//   node scripts/trusted-documents.ts [--out FILE] [--print]
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Kind, parse } from "graphql";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = [join(root, "web/src/lib"), join(root, "web/src/routes")];
export const MANIFEST_PATH = join(root, "web/build/trusted-documents.json");

/** Looks like the start of a GraphQL operation: refuse to skip it when it cannot be resolved or parsed. */
const LOOKS_LIKE_GRAPHQL = /^\s*(query|mutation|subscription)\b[\s\w$(]*[({]|^\s*\{\s*\w+[\s({]/;

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(ts|svelte)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The TypeScript of a file (a .svelte file's <script> blocks). */
function scriptOf(path: string): string {
  const text = readFileSync(path, "utf8");
  if (!path.endsWith(".svelte")) return text;
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join("\n");
}

/** The API client's functions and the position of their document argument (#lib/api.ts, #lib/server/session.ts). */
const CLIENTS: Record<string, number> = { gql: 0, serverGql: 2 };

/** Every call of a client and the documents it may send (the test checks each is in the manifest). */
const calls: { where: string; documents: string[] }[] = [];

function documentsOf(path: string): { text: string; line: number }[] {
  const source = ts.createSourceFile(path, scriptOf(path), ts.ScriptTarget.Latest, true);
  const consts = new Map<string, ts.Expression>();
  for (const st of source.statements) {
    if (!ts.isVariableStatement(st) || !(st.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
  }
  const evaluate = (e: ts.Expression, depth = 0): string | null => {
    if (depth > 10) return null;
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isParenthesizedExpression(e)) return evaluate(e.expression, depth + 1);
    if (ts.isIdentifier(e)) {
      const init = consts.get(e.text);
      return init ? evaluate(init, depth + 1) : null;
    }
    if (ts.isTemplateExpression(e)) {
      let s = e.head.text;
      for (const span of e.templateSpans) {
        const v = evaluate(span.expression, depth + 1);
        if (v === null) return null;
        s += v + span.literal.text;
      }
      return s;
    }
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const l = evaluate(e.left, depth + 1);
      const r = evaluate(e.right, depth + 1);
      return l === null || r === null ? null : l + r;
    }
    return null;
  };
  /** Every value an expression may have: one string, or each value of `CONST_OBJECT[key]`. */
  const evaluateAll = (e: ts.Expression): string[] | null => {
    if (ts.isElementAccessExpression(e) && ts.isIdentifier(e.expression)) {
      const init = consts.get(e.expression.text);
      if (!init || !ts.isObjectLiteralExpression(init)) return null;
      const values = init.properties.map((p) => (ts.isPropertyAssignment(p) ? evaluate(p.initializer) : null));
      return values.every((v) => v !== null) ? (values as string[]) : null;
    }
    const v = evaluate(e);
    return v === null ? null : [v];
  };
  const found: { text: string; line: number }[] = [];
  const checkCall = (n: ts.CallExpression) => {
    if (!ts.isIdentifier(n.expression) || !(n.expression.text in CLIENTS)) return;
    const arg = n.arguments[CLIENTS[n.expression.text] as number];
    if (!arg) return;
    const values = evaluateAll(arg);
    if (values) {
      calls.push({ where: where(n), documents: values });
      return;
    }
    // A client wrapper handing its own parameter on (serverGql -> gql) is fine: its callers are checked.
    let fn: ts.Node | undefined = n.parent;
    while (fn && !ts.isFunctionDeclaration(fn)) fn = fn.parent;
    const wrapper = fn && ts.isFunctionDeclaration(fn) && fn.name && fn.name.text in CLIENTS ? fn : null;
    if (wrapper && ts.isIdentifier(arg) && wrapper.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === arg.text)) return;
    throw new Error(`${where(n)}: ${n.expression.text}(...) with a document that is not a literal or a top-level const string`);
  };
  const where = (n: ts.Node) => `${relative(root, path)}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) {
      const raw = ts.isTemplateExpression(n) ? n.head.text : n.text;
      const text = evaluate(n);
      if (text === null) {
        if (LOOKS_LIKE_GRAPHQL.test(raw))
          throw new Error(`${where(n)}: a GraphQL document built at run time (only top-level const strings may be interpolated)`);
      } else if (LOOKS_LIKE_GRAPHQL.test(text)) {
        let doc: ReturnType<typeof parse>;
        try {
          doc = parse(text);
        } catch (e) {
          throw new Error(`${where(n)}: looks like GraphQL but does not parse: ${(e as Error).message}`);
        }
        if (doc.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION))
          found.push({ text, line: source.getLineAndCharacterOfPosition(n.getStart()).line + 1 });
      }
      if (ts.isTemplateExpression(n)) return; // its spans are parts, not documents
    }
    if (ts.isCallExpression(n)) checkCall(n);
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

/** Every document the web app sends: hash -> text, and where each was found. */
export function collectTrustedDocuments(): {
  manifest: Record<string, string>;
  sources: Record<string, string[]>;
  calls: { where: string; documents: string[] }[];
} {
  calls.length = 0;
  const manifest: Record<string, string> = {};
  const sources: Record<string, string[]> = {};
  for (const dir of SOURCES)
    for (const f of files(dir))
      for (const d of documentsOf(f)) {
        const h = sha256(d.text);
        manifest[h] = d.text;
        sources[h] = [...(sources[h] ?? []), `${relative(root, f)}:${d.line}`];
      }
  return { manifest, sources, calls: [...calls] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf("--out");
  const out = outIdx >= 0 ? (args[outIdx + 1] ?? MANIFEST_PATH) : MANIFEST_PATH;
  const { manifest, sources } = collectTrustedDocuments();
  if (args.includes("--print")) for (const [h, s] of Object.entries(sources)) console.log(h.slice(0, 12), s.join(", "));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`trusted documents: ${Object.keys(manifest).length} written to ${relative(root, out)}`);
}
