/**
 * The server's page-readable "someone is signed in here" cookie (`SIGNED_IN_COOKIE` in
 * `src/http/Auth.ts`): set and cleared with the session, no secret in it. The boot script asks for
 * the first feed page at once when it is there; the app clears it when the session turns out gone.
 */
export const SIGNED_IN_HINT = "ap_signed_in"
