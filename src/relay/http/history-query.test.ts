import { describe, expect, it } from "vitest";
import { MAX_COMPOUND_CURSOR_LENGTH } from "../../protocol/cursor.ts";
import { ProblemError } from "../../protocol/problems.ts";
import { historyQuerySchema } from "../../protocol/schemas.ts";
import { historyQuery, plainHistoryQuery } from "./history-query.ts";

const VALUES = [
  undefined,
  "",
  "0",
  "1",
  "00",
  "007",
  "30",
  "31",
  "100",
  "1000",
  "1001",
  "9999999999",
  "99999999999",
  "-1",
  "+1",
  "1.0",
  "1e2",
  " 1",
  "1 ",
  "０",
  "abc",
];
const CURSORS = [
  undefined,
  "",
  "x",
  "a.b.c",
  "é",
  "c".repeat(MAX_COMPOUND_CURSOR_LENGTH),
  "c".repeat(MAX_COMPOUND_CURSOR_LENGTH + 1),
];

function queries(): Array<Record<string, string>> {
  const all: Array<Record<string, string>> = [];
  for (const after of CURSORS)
    for (const limit of VALUES)
      for (const wait of VALUES) {
        const raw: Record<string, string> = { other: "ignored" };
        if (after !== undefined) raw.after = after;
        if (limit !== undefined) raw.limit = limit;
        if (wait !== undefined) raw.wait = wait;
        all.push(raw);
      }
  return all;
}

describe("history query", () => {
  it("accepts exactly what historyQuerySchema accepts, with the same values", () => {
    for (const raw of queries()) {
      const zod = historyQuerySchema.safeParse(raw);
      const plain = plainHistoryQuery(raw);
      expect(plain, JSON.stringify(raw)).toEqual(zod.success ? zod.data : undefined);
    }
  });

  it("answers invalid values with the schema's problem", () => {
    expect(historyQuery({ after: "a.b.c", limit: "100", wait: "10" })).toEqual({
      after: "a.b.c",
      limit: 100,
      wait: 10,
    });
    expect(() => historyQuery({ wait: "31" })).toThrow(ProblemError);
    expect(() => historyQuery({ wait: "31" })).toThrow(/^invalid_parameter: wait: /);
    expect(() => historyQuery({ limit: "0" })).toThrow(/^invalid_parameter: limit: /);
  });
});
