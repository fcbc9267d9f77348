import { define } from "../shared/define.ts"
import { ApUserSearch } from "./user-search.component.ts"

export { ApUserSearch }
define("ap-user-search", ApUserSearch)

declare global {
  interface HTMLElementTagNameMap {
    "ap-user-search": ApUserSearch
  }
}
