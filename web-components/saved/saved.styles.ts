import { css } from "lit"

export const styles = css`
  :host {
    display: block;
  }
  .skeleton span {
    display: block;
    aspect-ratio: 1;
    background: var(--_surface) center / cover;
  }
  .muted {
    color: var(--_muted);
  }
  .empty,
  .more {
    text-align: center;
    padding: 1em;
  }
`
