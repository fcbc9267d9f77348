/**
 * The passwords attackers try first. The list is zxcvbn's "passwords-common" dictionary (about
 * 49,000 entries, most frequent first, drawn from leaked password sets), shipped in
 * `@zxcvbn-ts/language-common`, which is kept current with zxcvbn-ts releases.
 */
import { dictionary } from "@zxcvbn-ts/language-common"

let common: ReadonlySet<string> | undefined

/** True when `password`, ignoring case, is on the list. */
export const isCommonPassword = (password: string): boolean => {
  // built on first use, so processes that never check a password never pay for the Set
  common ??= new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()))
  return common.has(password.toLowerCase())
}
