// Error mapping: our SQLSTATEs, privilege errors and bad values reach GraphQL and HTTP clients as
// documented codes with structured details; anything else is masked.
import { GraphQLError } from "graphql";
import { expect, it } from "vitest";
import { classifyDbError } from "../../web/src/server/errors.ts";
import { maskError } from "../../web/src/server/graphql/index.ts";

const dbError = (code: string, message: string, detail?: string) => Object.assign(new Error(message), { code, detail });
const wrap = (e: Error) => new GraphQLError(e.message, { originalError: e, path: ["x"] });

it("classifies database errors", () => {
  expect(classifyDbError("INSFD")).toMatchObject({ code: "INSFD", httpStatus: 402 });
  expect(classifyDbError("42501")).toMatchObject({ code: "DENYD", httpStatus: 403 });
  expect(classifyDbError("23505")).toMatchObject({ code: "BADIN", httpStatus: 400 });
  expect(classifyDbError("22021")).toMatchObject({ code: "BADIN", httpStatus: 400 }); // NUL byte in text
  expect(classifyDbError("XX000")).toBeNull();
  expect(classifyDbError(undefined)).toBeNull();
});

it("passes our codes through with JSON details from DETAIL as extensions", () => {
  const out = maskError(wrap(dbError("RATEL", "slow down", '{"retry_after": 1.5}')));
  expect(out.message).toBe("slow down");
  expect(out.extensions).toEqual({ code: "RATEL", httpStatus: 429, retry_after: 1.5 });
  const noDetail = maskError(wrap(dbError("NOFND", "stream x not found", "not json")));
  expect(noDetail.extensions).toEqual({ code: "NOFND", httpStatus: 404 });
});

it("masks internal errors", () => {
  const spy = console.error;
  console.error = () => {};
  try {
    const out = maskError(wrap(dbError("XX000", "secret internals")));
    expect(out.message).toMatch(/^internal error \(logged as \w+\)$/);
    expect(out.extensions).toEqual({ code: "INTERNAL" });
  } finally {
    console.error = spy;
  }
});
