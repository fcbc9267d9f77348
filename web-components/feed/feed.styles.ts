import { css } from "lit"

export const styles = css`
  .list {
    display: block;
    min-height: 1px;
  }
  ap-post {
    width: 100%;
    padding-bottom: var(--ap-feed-gap, 16px);
  }
  .pill {
    position: sticky;
    top: var(--ap-feed-pill-top, 12px);
    z-index: 2;
    display: block;
    margin: 0 auto 12px;
    background: var(--_accent);
    color: var(--_accent-fg);
    border: none;
    border-radius: 999px;
    padding: 0.5em 1.2em;
    box-shadow: 0 2px 8px rgb(0 0 0 / 0.2);
  }
  .status {
    text-align: center;
    color: var(--_muted);
    padding: 1em;
  }
  .toast {
    position: sticky;
    bottom: 12px;
    z-index: 2;
    margin: 0 auto;
    max-width: 32em;
    background: var(--_danger);
    color: #fff;
    border-radius: 8px;
    padding: 0.6em 1em;
    display: flex;
    gap: 1em;
    align-items: center;
    justify-content: space-between;
  }
  .toast button {
    background: transparent;
    color: inherit;
    border-color: currentColor;
  }
`
