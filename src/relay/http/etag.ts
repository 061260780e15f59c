import { ProblemError } from "../../protocol/problems.ts";
import type { EtagCondition } from "../redis/kv.ts";

/** The ETag of a KV value: the quoted sha1 hex Redis computed (`"<sha1 of the value>"`). */
export const formatEtag = (sha1: string): string => `"${sha1}"`;

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7E]*)"$/;
const SHA1_HEX = /^[0-9a-f]{40}$/;
const MAX_HEADER = 4096;

/**
 * Parses If-Match / If-None-Match (RFC 9110 §13.1): `*` or a comma-separated list of entity tags.
 * `weak`: If-None-Match compares weakly (W/"x" matches "x"); If-Match strongly (weak tags never match).
 * Tags that cannot be one of ours (not 40 hex digits) are kept out of the list, so they never match.
 * Returns undefined when the header is absent; 400 `invalid_header` when malformed.
 */
export function parseEtagCondition(
  header: string | null,
  name: string,
  weak: boolean,
): EtagCondition | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (text.length > MAX_HEADER)
    throw new ProblemError("invalid_header", `${name} is longer than ${MAX_HEADER} characters`);
  if (text === "*") return "*";
  const tags: string[] = [];
  for (const part of text.split(",")) {
    const match = ENTITY_TAG.exec(part.trim());
    if (!match) {
      throw new ProblemError(
        "invalid_header",
        `${name} must be * or a list of quoted entity tags like "3f786850e387550fdab836ed7e6dc881de23001b"`,
      );
    }
    const [, weakPrefix, opaque = ""] = match;
    if (weakPrefix && !weak) continue;
    if (SHA1_HEX.test(opaque)) tags.push(opaque);
  }
  return tags;
}

/** Does a weak If-None-Match condition match the current sha1? (GET → 304) */
export function noneMatchHits(condition: EtagCondition | undefined, sha1: string): boolean {
  if (condition === undefined) return false;
  return condition === "*" || condition.includes(sha1);
}
