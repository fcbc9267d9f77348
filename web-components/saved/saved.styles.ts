import { css } from "lit"

export const styles = css`
  :host {
    display: block;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(3, 1fr);
    gap: var(--ap-grid-gap, 4px);
    list-style: none;
    padding: 0;
    margin: 0;
  }
  .grid a,
  .skeleton span {
    display: block;
    aspect-ratio: 1;
    background: var(--_surface) center / cover;
  }
  .grid img {
    width: 100%;
    height: 100%;
    object-fit: cover;
    display: block;
  }
  .muted {
    color: var(--_muted);
  }
  .empty,
  .more {
    text-align: center;
    padding: 1em;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
  }
`
