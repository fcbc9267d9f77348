/** The app's client-side routes (the server answers every one of them with index.html). */
export type Route =
  | { readonly name: "home" }
  | { readonly name: "login" }
  | { readonly name: "signup" }
  | { readonly name: "profile"; readonly username: string }
  | { readonly name: "people"; readonly username: string; readonly list: "followers" | "following" }
  | { readonly name: "requests" }
  | { readonly name: "saved" }
  | { readonly name: "post"; readonly id: string }
  | { readonly name: "notifications" }
  | { readonly name: "search" }
  | { readonly name: "new" }
  | { readonly name: "messages"; readonly id: string | null }
  | { readonly name: "admin" }
  | { readonly name: "settings" }
  | { readonly name: "not-found" }

const segment = (s: string) => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export const parseRoute = (pathname: string): Route => {
  const parts = pathname.split("/").filter((p) => p !== "")
  const [head, arg] = parts
  if (parts.length === 0) return { name: "home" }
  if (parts.length === 1) {
    switch (head) {
      case "login":
      case "signup":
      case "notifications":
      case "search":
      case "new":
      case "admin":
      case "settings":
      case "requests":
      case "saved":
        return { name: head }
      case "messages":
        return { name: "messages", id: null }
    }
  }
  if (parts.length === 2 && head === "messages" && arg) return { name: "messages", id: segment(arg) }
  if (parts.length === 2 && head === "u" && arg) return { name: "profile", username: segment(arg) }
  if (parts.length === 2 && head === "p" && arg) return { name: "post", id: segment(arg) }
  if (parts.length === 3 && head === "u" && arg && (parts[2] === "followers" || parts[2] === "following")) {
    return { name: "people", username: segment(arg), list: parts[2] }
  }
  return { name: "not-found" }
}

/** Paths the server owns: never routed client-side. */
const SERVER_PREFIXES = ["/api", "/media", "/widgets", "/docs", "/ws", "/healthz", "/readyz", "/metrics"]
export const isAppPath = (pathname: string) => !SERVER_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`))
