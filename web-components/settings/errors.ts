/** Turns a failed settings call into plain words and the field they belong to (the API's `details.field`). */
import { ApiError, describeError } from "../sdk/rest.ts"
import { sentence } from "../shared/sentence.ts"

export interface FieldError {
  /** The form field the error is about, or undefined for the form as a whole. */
  readonly field: string | undefined
  readonly message: string
}

export const MIN_PASSWORD = 8
export const MAX_PASSWORD = 128

const WORDS: Record<string, string> = {
  currentPassword: "Your current password is not right. Check it and try again.",
  newPassword: "That password is too easy to guess. Choose one that is not a common password and does not contain your username."
}

/** `fallbackField` places a field-less 400 (a schema check failing) at the field the form validates. */
export const fieldError = (error: unknown, fallbackField?: string): FieldError => {
  if (!(error instanceof ApiError)) return { field: undefined, message: describeError(error) }
  const details = error.details as { field?: unknown } | undefined
  const field = typeof details?.field === "string" ? details.field : undefined
  if (error.status === 422 && field && WORDS[field]) return { field, message: WORDS[field] }
  if (error.status === 400 && fallbackField === "newPassword") {
    return { field: field ?? fallbackField, message: `A password is ${MIN_PASSWORD}–${MAX_PASSWORD} characters.` }
  }
  if (field) return { field, message: sentence(error.message) || describeError(error) }
  if (error.status === 400 && fallbackField) return { field: fallbackField, message: sentence(error.message) }
  return { field: undefined, message: describeError(error) }
}

/** The client-side check of a new password (the server's rule: 8–128 characters). */
export const checkPassword = (password: string): string | undefined => {
  const length = [...password].length
  if (length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters (this one has ${length}).`
  if (length > MAX_PASSWORD) return `Use at most ${MAX_PASSWORD} characters (this one has ${length}).`
  return undefined
}
