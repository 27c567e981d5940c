/**
 * A Worker environment a test builds: the vars, secrets and bindings it names, as the gateway
 * reads them. Tests leave bindings out (the rate limiter, say) and add secrets by the names their
 * models give, which the generated `Env` cannot say without a cast; the cast lives here, once.
 */
export type TestEnv = { [K in keyof Env]?: Env[K] | undefined } & Record<string, unknown>

export function asEnv(vars: TestEnv): Env {
  return vars as unknown as Env
}
