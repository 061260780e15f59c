/** The shapes the relay and its clients share. Imports neither side. */
export * from "./cursor.ts";
export * from "./message.ts";
export * from "./names.ts";
export * from "./problems.ts";
export * from "./schemas.ts";
