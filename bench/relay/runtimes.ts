import { checkDeliveryPath } from "./delivery-path.ts";
import { startFloorProcess } from "./floor-process.ts";
import { startRelayProcess } from "./relay-process.ts";
import type { RelayBenchStack } from "./stack.ts";
import { startDurableObjectFloor, startRelayUnderWranglerDev } from "./wrangler-dev.ts";

export type RuntimeName = "node" | "deno" | "workers";
export const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "workers"];

/** A server under measurement, with the processes whose CPU and memory count for it, by display name. */
export interface Served {
  url: string;
  processes(): Record<string, number[]>;
}

/** One runtime as the benchmark sees it: the relay on it (with the proxy it needs) and its fan-out floor. */
export interface RuntimeUnderTest {
  name: RuntimeName;
  /** "Node", "Deno", "Workers": used in every row label. */
  label: string;
  relay: Served;
  floor: Served;
}

const LABEL: Record<RuntimeName, string> = { node: "Node", deno: "Deno", workers: "Workers" };

/**
 * Starts the relay on `name` against the stack's proxy, with `relayEnv` on top of the defaults, and the runtime's
 * fan-out floor (bench/floors). Both are stopped with the stack.
 */
export async function startRuntime(
  name: RuntimeName,
  stack: RelayBenchStack,
  relayEnv: Record<string, string>,
): Promise<RuntimeUnderTest> {
  const proxy = { proxy: [stack.proxyPid] };
  const label = LABEL[name];
  if (name === "workers") {
    const relay = await startRelayUnderWranglerDev(stack.relaySecrets, relayEnv);
    stack.onStop(() => relay.stop());
    await checkDeliveryPath(label, relay.url, stack, relayEnv);
    const floor = await startDurableObjectFloor();
    stack.onStop(() => floor.stop());
    return {
      name,
      label,
      relay: {
        url: relay.url,
        processes() {
          const { entry, worker } = relay.workerd();
          return { "workerd (wrangler entry)": entry, "workerd (relay)": worker, ...proxy };
        },
      },
      floor: {
        url: floor.url,
        processes() {
          const { entry, worker } = floor.workerd();
          return { "workerd (wrangler entry)": entry, "workerd (floor)": worker };
        },
      },
    };
  }
  const relay = await startRelayProcess(name, { ...stack.relaySecrets, ...relayEnv });
  stack.onStop(() => relay.stop());
  await checkDeliveryPath(label, relay.url, stack, relayEnv);
  const floor = await startFloorProcess(name);
  stack.onStop(() => floor.stop());
  return {
    name,
    label,
    relay: { url: relay.url, processes: () => ({ [`relay (${label})`]: [relay.pid], ...proxy }) },
    floor: { url: floor.url, processes: () => ({ [`floor (${label})`]: [floor.pid] }) },
  };
}
