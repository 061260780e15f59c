import { describe, expect, it } from "vitest";
import type { ChannelPosition } from "../../protocol/cursor.ts";
import type { JsonValue } from "../../protocol/message-shape.ts";
import { frameMessage } from "../live/live-item.ts";
import { RecentMessages } from "./recent-messages.ts";

const at = (streamId: string, epoch = "e1"): ChannelPosition => ({ channel: "ch", epoch, streamId });
const message = (streamId: string, data: JsonValue = streamId, epoch = "e1") =>
  frameMessage({ id: "", channel: "ch", event: "message", data, time: 0 }, at(streamId, epoch));
const ids = (messages: { position: ChannelPosition }[] | undefined) =>
  messages?.map((m) => m.position.streamId);

describe("RecentMessages", () => {
  it("knows nothing until it has a base", () => {
    const recent = new RecentMessages();
    recent.push(message("5-0"));
    expect(recent.after(at("5-0"), 10)).toBeUndefined();
  });

  it("answers cursors from its base to the newest: what follows, or [] at the newest", () => {
    const recent = new RecentMessages();
    recent.restart(at("1-0"));
    expect(recent.after(at("1-0"), 10)).toEqual([]);
    for (const id of ["2-0", "3-0", "4-0"]) recent.push(message(id));
    expect(ids(recent.after(at("1-0"), 10))).toEqual(["2-0", "3-0", "4-0"]);
    expect(ids(recent.after(at("2-0"), 1))).toEqual(["3-0"]);
    expect(ids(recent.after(at("2-5"), 10))).toEqual(["3-0", "4-0"]);
    expect(recent.after(at("4-0"), 10)).toEqual([]);
  });

  it("cannot tell for cursors before its base, after the newest, or in another epoch or channel", () => {
    const recent = new RecentMessages();
    recent.restart(at("2-0"));
    recent.push(message("3-0"));
    expect(recent.after(at("1-0"), 10)).toBeUndefined();
    expect(recent.after(at("3-1"), 10)).toBeUndefined();
    expect(recent.after(at("3-0", "e2"), 10)).toBeUndefined();
    expect(recent.after({ ...at("3-0"), channel: "other" }, 10)).toBeUndefined();
  });

  it("drops the oldest beyond its count or size, and its base moves with them", () => {
    const recent = new RecentMessages({ count: 2, chars: 10_000 });
    recent.restart(at("1-0"));
    for (const id of ["2-0", "3-0", "4-0"]) recent.push(message(id));
    expect(recent.after(at("2-0"), 10)?.length).toBe(2);
    expect(recent.after(at("1-0"), 10)).toBeUndefined();
    const small = new RecentMessages({ count: 100, chars: 300 });
    small.restart(at("1-0"));
    small.push(message("2-0", "x".repeat(200)));
    small.push(message("3-0", "y".repeat(200)));
    expect(small.after(at("1-0"), 10)).toBeUndefined();
    expect(ids(small.after(at("2-0"), 10))).toEqual(["3-0"]);
    // The newest message is kept even alone over the size bound: a waiter right before it is answered.
    small.push(message("4-0", "z".repeat(1000)));
    expect(ids(small.after(at("3-0"), 10))).toEqual(["4-0"]);
  });

  it("a message of another epoch starts the record again right after it", () => {
    const recent = new RecentMessages();
    recent.restart(at("1-0"));
    recent.push(message("2-0"));
    recent.push(message("1-0", 1, "e2"));
    expect(recent.after(at("1-0"), 10)).toBeUndefined();
    expect(recent.after(at("1-0", "e2"), 10)).toEqual([]);
    recent.push(message("2-0", 2, "e2"));
    expect(ids(recent.after(at("1-0", "e2"), 10))).toEqual(["2-0"]);
  });
});
