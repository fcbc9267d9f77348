/**
 * The account owner's calls that settings makes beyond rest.ts: embed tokens (create, list,
 * revoke — a session only) and the avatar upload (`PUT /users/me/avatar`, multipart).
 */
import type { EmbedScope, EmbedToken, EmbedTokenCreated, EmbedTokenList } from "../../src/domain/EmbedTokens.ts"
import type { AvatarAccepted } from "../../src/domain/Posts.ts"
import { ApiError, parseError, type RestClient } from "./rest.ts"

export const embedTokens = (rest: RestClient) => rest.request<EmbedTokenList>("GET", "/users/me/embed-tokens")

export const createEmbedToken = (rest: RestClient, input: { readonly name: string; readonly scope: EmbedScope; readonly allowedOrigins?: ReadonlyArray<string> }) =>
  rest.request<EmbedTokenCreated>("POST", "/users/me/embed-tokens", input)

export const revokeEmbedToken = (rest: RestClient, id: string) => rest.request<void>("DELETE", `/users/me/embed-tokens/${encodeURIComponent(id)}`)

/** Sends a new avatar (the browser's square crop, as a blob); the server renders its variants (202). */
export const uploadAvatar = async (rest: RestClient, image: Blob, filename = "avatar.jpg"): Promise<AvatarAccepted> => {
  const form = new FormData()
  form.append("image", image, filename)
  let res: Response
  try {
    res = await fetch(rest.base + "/api/v1/users/me/avatar", {
      method: "PUT",
      headers: rest.token ? { accept: "application/json", authorization: `Bearer ${rest.token}` } : { accept: "application/json" },
      body: form,
      credentials: rest.token || rest.crossOrigin ? "omit" : "same-origin"
    })
  } catch {
    throw new ApiError(0, "NetworkError", "the upload did not go through")
  }
  const text = await res.text()
  if (!res.ok) throw parseError(res.status, text)
  return JSON.parse(text) as AvatarAccepted
}

export type { EmbedToken }
