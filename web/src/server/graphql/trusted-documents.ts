// Trusted documents (persisted operations) for the web app's own requests. `npm run build` collects
// every GraphQL document the app sends (scripts/trusted-documents.ts) into a manifest, sha256 hex ->
// text. When enforced (TRUSTED_DOCUMENTS, core/config.ts: by default in production), a request from
// a browser (an Origin header, or the session cookie) must name one of them: by
// `extensions.persistedQuery.sha256Hash` (Apollo's shape, what #lib/api.ts sends, with the text) or
// `documentId`, or by sending text whose sha256 is one. The manifest's text is what runs; any other
// text is refused with DENYD before it is parsed. Other clients (integrators, SvelteKit's own
// server-side calls: no Origin, no cookie) may send any document, still within the limits (limits.ts).
// Only HTTP: the browser's realtime socket (web/src/server/realtime) is not GraphQL over websockets.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SafeError } from "postgraphile/grafast";
import { SESSION_COOKIE } from "../../../../core/session.ts";

export const DEFAULT_MANIFEST = fileURLToPath(new URL("../../../build/trusted-documents.json", import.meta.url));

/** The manifest, or null when it is missing or unreadable (then every browser request is refused). */
export function loadTrustedDocuments(path: string = DEFAULT_MANIFEST): Map<string, string> | null {
  try {
    const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    return new Map(Object.entries(json).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return null;
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function fromBrowser(getHeader: (name: string) => string | undefined): boolean {
  if (getHeader("origin")) return true;
  const cookie = getHeader("cookie") ?? "";
  return cookie.split(";").some((c) => c.trim().startsWith(`${SESSION_COOKIE}=`));
}

function refuse(message: string): never {
  throw new SafeError(message, { statusCode: 403, code: "DENYD" });
}

/** The grafserv plugin: a browser request's document must be trusted (see the file's comment). */
export function makeTrustedDocumentsPlugin(documents: Map<string, string> | null): GraphileConfig.Plugin {
  const trusted = documents ?? new Map<string, string>();
  return {
    name: "TrollCityTrustedDocuments",
    version: "1.0.0",
    grafserv: {
      middleware: {
        processGraphQLRequestBody(next, event) {
          const request = event.request;
          if (!request || !fromBrowser((name) => request.getHeader(name))) return next();
          const body = event.body as { query?: unknown; documentId?: unknown; extensions?: unknown };
          const pq = (body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
          const named = typeof pq?.sha256Hash === "string" ? pq.sha256Hash : typeof body.documentId === "string" ? body.documentId : null;
          const hash = named ?? (typeof body.query === "string" ? sha256(body.query) : null);
          const document = hash ? trusted.get(hash) : undefined;
          if (document === undefined)
            refuse(
              documents
                ? "this operation is not one of the web app's trusted documents (TRUSTED_DOCUMENTS)"
                : "the trusted documents manifest is missing (run `npm run build`); browser requests are refused",
            );
          if (typeof body.query === "string" && body.query !== document) refuse("the query text does not match its trusted document");
          body.query = document;
          body.documentId = undefined;
          return next();
        },
      },
    },
  };
}
