/**
 * The shapes the relay and its clients share. Imports neither side. The client imports the zod-free modules
 * (cursor, name-rules, message-shape, stream-headers) directly, never this index: it would bring zod along.
 */
export * from "./cursor.ts";
export * from "./message.ts";
export * from "./names.ts";
export * from "./problems.ts";
export * from "./schemas.ts";
export * from "./stream-headers.ts";
