import { css } from "lit"

export const styles = css`
  :host {
    display: block;
  }
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  li {
    display: grid;
    grid-template-columns: auto 1fr auto;
    align-items: center;
    gap: 0.4em 0.8em;
    padding: 0.5em 0;
    border-bottom: 1px solid var(--_border);
  }
  .avatar {
    width: 44px;
    height: 44px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  .who {
    display: flex;
    flex-direction: column;
    min-width: 0;
    min-height: 44px;
    justify-content: center;
    color: inherit;
    text-decoration: none;
    overflow-wrap: anywhere;
  }
  .who:hover strong {
    text-decoration: underline;
  }
  .actions {
    display: flex;
    gap: 0.4em;
    flex-wrap: wrap;
    justify-content: flex-end;
  }
  button {
    min-height: 44px;
    min-width: 44px;
  }
  .error {
    grid-column: 1 / -1;
    margin: 0;
  }
  .muted {
    color: var(--_muted);
  }
  .empty,
  .more {
    text-align: center;
    padding: 1em;
  }
  .skeleton .bar {
    height: 1em;
    width: 60%;
    border-radius: 4px;
    background: var(--_surface);
  }
`
