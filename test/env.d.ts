// Vite's import.meta.glob and `?raw` imports, used to bundle the recorded fixtures into tests.
/// <reference types="vite/client" />

// `env` from `cloudflare:test` is the Worker's own bindings, as `wrangler types` generated them.
declare module 'cloudflare:test' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the cloudflare:test convention
  interface ProvidedEnv extends Env {}
}
