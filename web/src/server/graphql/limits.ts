// Limits on what one GraphQL request may ask for, checked before anything is planned or runs:
// depth, aliases, directives and estimated cost (graphql-armor's validation rules), at most one
// `login`/`register` per request (one password check per request: brute force needs many requests,
// and those are throttled per account and address in SQL), `first`/`last` at most 100 on every
// connection, no introspection or "Did you mean" suggestions unless configured on. Planning and
// execution have timeouts (index.ts). docs/security.md lists each limit with its test.
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  type ASTVisitor,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  type ValidationContext,
  type ValidationRule,
  visit,
} from "graphql";
import { SafeError } from "postgraphile/grafast";

export interface GraphqlLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
  maxPageSize: number;
  /** Introspection and field suggestions in error messages. */
  introspection: boolean;
}

export const DEFAULT_LIMITS: Omit<GraphqlLimits, "introspection"> = {
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxCost: 5000,
  maxPageSize: 100,
};

/** Fields that check a password: one per request. */
const PASSWORD_FIELDS = new Set(["login", "register"]);

function onePasswordCheckRule(context: ValidationContext): ASTVisitor {
  let seen = 0;
  return {
    Field(node) {
      if (!PASSWORD_FIELDS.has(node.name.value)) return;
      seen++;
      if (seen === 2)
        context.reportError(
          new GraphQLError("at most one login or register per request", { nodes: [node], extensions: { code: "BADIN" } }),
        );
    },
  };
}

function pageSizeRule(max: number): ValidationRule {
  return (context) => ({
    Argument(node) {
      if ((node.name.value === "first" || node.name.value === "last") && node.value.kind === Kind.INT && Number(node.value.value) > max)
        context.reportError(new GraphQLError(`${node.name.value} may be at most ${max}`, { nodes: [node], extensions: { code: "BADIN" } }));
    },
  });
}

/** graphql-js appends "Did you mean ...?" to unknown-field errors: it maps the schema for strangers. */
function withoutSuggestions(rule: ValidationRule): ValidationRule {
  return (context) => {
    const report = context.reportError.bind(context);
    const quiet = Object.create(context) as ValidationContext;
    quiet.reportError = (error: GraphQLError) =>
      report(
        / Did you mean /.test(error.message)
          ? new GraphQLError(error.message.replace(/ Did you mean .*$/, ""), { nodes: error.nodes })
          : error,
      );
    return rule(quiet);
  };
}

export function limitRules(limits: GraphqlLimits): ValidationRule[] {
  // Report (not throw) so every limit a request breaks is named, and our own rules still run.
  const armor = {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return [
    maxDepthRule({ ...armor, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }) as unknown as ValidationRule,
    maxAliasesRule({ ...armor, n: limits.maxAliases }) as unknown as ValidationRule,
    maxDirectivesRule({ ...armor, n: limits.maxDirectives }) as unknown as ValidationRule,
    costLimitRule({ ...armor, maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true }) as unknown as ValidationRule,
    onePasswordCheckRule,
    pageSizeRule(limits.maxPageSize),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

/**
 * `first`/`last` given through variables: validation rules do not see variable values, so a request
 * whose variables hold a number over the cap is parsed once more and checked here.
 */
export function pageSizeFromVariables(query: string, variables: Record<string, unknown> | undefined, max: number): string | null {
  if (!variables || !Object.values(variables).some((v) => typeof v === "number" && v > max)) return null;
  let problem: string | null = null;
  try {
    visit(parse(query), {
      Argument(node) {
        if ((node.name.value === "first" || node.name.value === "last") && node.value.kind === Kind.VARIABLE) {
          const v = variables[node.value.name.value];
          if (typeof v === "number" && v > max) problem = `${node.name.value} may be at most ${max}`;
        }
      },
    });
  } catch {
    return null; // grafserv reports the syntax error itself
  }
  return problem;
}

/** The grafserv plugin: adds the rules and the variable check to every request, HTTP and websocket. */
export function makeLimitsPlugin(limits: GraphqlLimits): GraphileConfig.Plugin {
  return {
    name: "TrollCityRequestLimits",
    version: "1.0.0",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          const specified = limits.introspection ? event.validationRules : event.validationRules.map(withoutSuggestions);
          event.validationRules = [...specified, ...limitRules(limits)];
          return next();
        },
        processGraphQLRequestBody(next, event) {
          const { query, variableValues } = event.body as { query?: unknown; variableValues?: unknown };
          if (typeof query === "string" && variableValues && typeof variableValues === "object") {
            const problem = pageSizeFromVariables(query, variableValues as Record<string, unknown>, limits.maxPageSize);
            if (problem) throw new SafeError(problem, { statusCode: 400, code: "BADIN" });
          }
          return next();
        },
      },
    },
  };
}
