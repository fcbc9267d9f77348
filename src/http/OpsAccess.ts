/**
 * The door of the operations endpoints on the main listener. `OPS_TOKEN`, when set, is the key:
 * `Authorization: Bearer <OPS_TOKEN>` opens `/metrics` and the full `/system/info`, and anything
 * else is refused. Without a token, a development server leaves them open (as before); a
 * production one (NODE_ENV=production), or one with a separate `METRICS_PORT` listener, keeps
 * them closed: `/metrics` answers 404, as if it did not exist, and `/system/info` is trimmed.
 */
import { Redacted } from "effect"
import { timingSafeEqual } from "node:crypto"
import type { AppConfigShape } from "../config/AppConfig.ts"

export type OpsAccess =
  /** the caller sent the token, or no door is configured on a development server */
  | "granted"
  /** a token is configured and the caller did not send it */
  | "unauthorized"
  /** no token is configured and the endpoint is not public here */
  | "closed"

const bearer = (header: string | undefined) => {
  const m = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header)
  return m?.[1]
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export const opsAccess = (ops: AppConfigShape["ops"], authorization: string | undefined): OpsAccess => {
  if (ops.token !== undefined) {
    const sent = bearer(authorization)
    return sent !== undefined && sameSecret(sent, Redacted.value(ops.token)) ? "granted" : "unauthorized"
  }
  return ops.production ? "closed" : "granted"
}

/** `/metrics` on the main listener: also closed when a separate metrics listener is the door. */
export const metricsAccess = (ops: AppConfigShape["ops"], authorization: string | undefined): OpsAccess => {
  const access = opsAccess(ops, authorization)
  return access === "granted" && ops.token === undefined && ops.metricsPort !== undefined ? "closed" : access
}
