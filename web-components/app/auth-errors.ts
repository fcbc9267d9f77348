/** Sign-up and log-in failures in plain sentences, at the field they concern (`details.field`, or a decode error's path). */
import { ApiError, describeError } from "../sdk/rest.ts"
import { sentence } from "../shared/sentence.ts"

export type AuthField = "username" | "email" | "password" | "displayName" | "login"

export interface AuthError {
  readonly field: AuthField | undefined
  readonly message: string
}

const FIELDS: ReadonlyArray<AuthField> = ["username", "email", "password", "displayName", "login"]

const RULES: Record<AuthField, string> = {
  username: "A username is 1–30 letters, digits, dots or underscores.",
  email: "Enter an email address like name@example.com.",
  password: "A password is 8–128 characters.",
  displayName: "A display name is at most 64 characters.",
  login: "Enter your username or email."
}

const fieldOf = (details: unknown): AuthField | undefined => {
  const name = (v: unknown) => (typeof v === "string" && (FIELDS as ReadonlyArray<string>).includes(v) ? (v as AuthField) : undefined)
  if (details && typeof details === "object" && !Array.isArray(details)) return name((details as { field?: unknown }).field)
  // a decode error lists the failing paths: the first names the field
  if (Array.isArray(details)) {
    for (const d of details) {
      const path = (d as { path?: unknown })?.path
      const field = Array.isArray(path) ? name(path[0]) : undefined
      if (field) return field
    }
  }
  return undefined
}

export const authError = (error: unknown, mode: "login" | "signup"): AuthError => {
  if (!(error instanceof ApiError)) return { field: undefined, message: describeError(error) }
  if (mode === "login" && error.status === 401) return { field: undefined, message: "Wrong username, email or password." }
  const field = fieldOf(error.details)
  if (error.status === 409 && field === "username") return { field, message: "That username is taken. Try another one." }
  if (error.status === 409 && field === "email") return { field, message: "An account already uses that email. Log in instead, or use another one." }
  if (error.status === 400 && field) return { field, message: RULES[field] }
  if (field) return { field, message: sentence(error.message) }
  return { field: undefined, message: describeError(error) }
}
