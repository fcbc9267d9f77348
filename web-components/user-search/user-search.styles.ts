import { css } from "lit"

export const styles = css`
  .box {
    position: relative;
  }
  ul {
    list-style: none;
    margin: 0.3em 0 0;
    padding: 0;
    border: 1px solid var(--_border);
    border-radius: 8px;
    background: var(--_bg);
    overflow: hidden;
  }
  li {
    display: flex;
    gap: 0.6em;
    align-items: center;
    padding: 0.5em 0.8em;
    min-height: 44px;
    cursor: pointer;
  }
  li[aria-selected="true"],
  li:hover {
    background: var(--_surface);
  }
  .muted {
    color: var(--_muted);
    font-size: 0.9em;
  }
  .avatar {
    width: 28px;
    height: 28px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  .status {
    color: var(--_muted);
    padding: 0.4em 0.2em;
  }
`
