import type { IncomingMessage } from "node:http";
import { parseJsonKeepingNumbers } from "../protocol/exact-json.ts";
import { CommandInputError } from "./command-input.ts";

/** The body is larger than the limit: answered with 413. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Reads the whole body, refusing early (by Content-Length) or as soon as the bytes read pass `limit`,
 * so an oversize upload never sits in memory.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.resume();
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    request.once("end", () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    request.once("error", reject);
    // A client that goes away mid-body: settle instead of waiting forever (the answer goes nowhere anyway).
    request.once("close", () => {
      if (!ended)
        reject(new CommandInputError("ERR the client closed the connection before the body was complete"));
    });
  });
}

function tooLarge(size: number, limit: number): BodyTooLargeError {
  return new BodyTooLargeError(
    `ERR request body of ${size}+ bytes exceeds the proxy's limit of ${limit} bytes`,
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses a JSON body; invalid UTF-8 and invalid JSON are refused with a message saying which. */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new CommandInputError("ERR request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new CommandInputError("ERR request body is empty; expected a JSON array");
  try {
    // An integer past 2^53 or 1e400 reaches Redis as the digits sent (an INCRBY must not change by rounding).
    return parseJsonKeepingNumbers(text, (source) => source);
  } catch (error) {
    throw new CommandInputError(
      `ERR request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
