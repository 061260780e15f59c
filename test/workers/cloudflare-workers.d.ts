// The part of workerd's `cloudflare:workers` module these tests use (the vitest plugin provides it at run time).
declare module "cloudflare:workers" {
  export const exports: { default: { fetch(request: Request): Promise<Response> } };
  export const env: Record<string, unknown>;
}
