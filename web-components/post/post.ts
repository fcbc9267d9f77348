import { define } from "../shared/define.ts"
import { ApPost } from "./post.component.ts"

export { ApPost }
define("ap-post", ApPost)

declare global {
  interface HTMLElementTagNameMap {
    "ap-post": ApPost
  }
}
