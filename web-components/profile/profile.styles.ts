import { css } from "lit"

export const styles = css`
  header {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: 0.4em 1.2em;
    align-items: center;
    padding: 1em 0;
  }
  .avatar {
    grid-row: span 3;
    width: 88px;
    height: 88px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  h2 {
    margin: 0;
    font-size: 1.3em;
  }
  .names {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6em;
    align-items: center;
  }
  .counts {
    display: flex;
    gap: 1.2em;
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .counts strong {
    font-weight: 700;
  }
  .bio {
    white-space: pre-wrap;
    margin: 0;
  }
  .muted {
    color: var(--_muted);
  }
  .private {
    text-align: center;
    padding: 2em 1em;
    border-top: 1px solid var(--_border);
  }
  .more-posts {
    text-align: center;
    padding: 1em;
  }
  .names button {
    min-height: 44px;
  }
  .counts a {
    color: inherit;
    text-decoration: none;
    display: inline-block;
    min-height: 44px;
    line-height: 44px;
  }
  .counts a:hover {
    text-decoration: underline;
  }
  .more {
    position: relative;
  }
  [part="more-button"] {
    min-width: 44px;
    font-weight: 700;
  }
  .menu {
    position: absolute;
    z-index: 3;
    right: 0;
    top: calc(100% + 4px);
    min-width: 12em;
    list-style: none;
    margin: 0;
    padding: 0.3em;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: 0 6px 24px rgb(0 0 0 / 0.18);
  }
  .menu button,
  .menu a {
    display: block;
    width: 100%;
    min-height: 44px;
    text-align: left;
    border: 0;
    background: none;
    padding: 0.6em 0.8em;
    color: inherit;
    text-decoration: none;
    border-radius: 6px;
  }
  .menu button:hover,
  .menu a:hover {
    background: var(--_surface);
  }
  .menu .danger {
    color: var(--_danger);
  }
  .notice:not(:empty) {
    padding: 0.5em 0;
  }
  .private-note {
    padding: 0.6em 0.8em;
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .skeleton {
    display: grid;
    grid-template-columns: 88px 1fr;
    gap: 0.6em 1.2em;
    padding: 1em 0;
  }
  .skeleton .avatar {
    grid-row: span 2;
  }
  .skeleton .bar {
    height: 1.1em;
    width: 50%;
    border-radius: 4px;
    background: var(--_surface);
  }
  .skeleton .bar.short {
    width: 30%;
  }
  @media (max-width: 420px) {
    header {
      grid-template-columns: 1fr;
    }
    .avatar {
      grid-row: auto;
      width: 72px;
      height: 72px;
    }
  }
`
