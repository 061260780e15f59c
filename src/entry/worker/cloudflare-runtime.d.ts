// The part of the Workers runtime API the Durable Object path uses. Runtime types are not generated
// (`wrangler types --include-runtime=false`: tsconfig.json types the rest of src/ against the DOM lib).
declare module "cloudflare:workers" {
  export abstract class DurableObject<E = unknown> {
    protected ctx: DurableObjectState;
    protected env: E;
    constructor(ctx: DurableObjectState, env: E);
    fetch?(request: Request): Response | Promise<Response>;
  }
}

interface DurableObjectState {
  readonly id: DurableObjectId;
}

interface DurableObjectId {
  toString(): string;
}

interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}

interface DurableObjectNamespace<_T = unknown> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}
