import { describe, expect, it } from "vitest";
import { staleExamples } from "../../scripts/build-examples.ts";

describe("examples generated from the relay's source", () => {
  it("examples/python/publish.lua is the relay's PUBLISH_LUA (run `npm run build:examples` when this fails)", () => {
    expect(staleExamples()).toEqual([]);
  });
});
