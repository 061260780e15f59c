import { InvalidArgumentError } from "commander";
import { parseDuration } from "./duration.ts";

/** commander argParsers: a bad value becomes a usage error (exit 2) that names the value. */
export function durationArgument(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

export function positiveInteger(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0) {
    throw new InvalidArgumentError(`expected a positive whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw new InvalidArgumentError(`expected a whole number (0 or more), got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function portNumber(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** `--redis-cluster`: Redis Cluster needs at least 3 primaries; more than 16 is no local stack. */
export function clusterPrimaries(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) < 3 || Number(value) > 16) {
    throw new InvalidArgumentError(
      `expected a number of primaries from 3 to 16, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** `--min-replicas-to-write`: the local cluster has one replica per primary, so 1 is the only value that lets writes through. */
export function localClusterMinReplicas(value: string): number {
  if (value !== "1") {
    throw new InvalidArgumentError(
      `expected 1 (the local cluster has one replica per primary), got ${JSON.stringify(value)}`,
    );
  }
  return 1;
}

/** For repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
