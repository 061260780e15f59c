/**
 * Response headers of the relay's SSE streams that clients read. Plain constants (no zod) so the client SDK
 * shares them without pulling in the relay's validation.
 */

/**
 * `Relay-Heartbeat-Ms: <ms>`: the interval of the stream's `: keepalive` comments (RELAY_HEARTBEAT_MS). A header
 * reaches the client even through a proxy that buffers the body, so a client can size its silence watchdog
 * from it instead of guessing the default.
 */
export const HEARTBEAT_HEADER = "Relay-Heartbeat-Ms";
