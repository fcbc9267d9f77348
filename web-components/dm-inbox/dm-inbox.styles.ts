import { css } from "lit"

export const styles = css`
  :host([variant="badge"]) {
    display: inline-block;
  }
  a.link {
    color: inherit;
    text-decoration: none;
    padding: 0.3em 0.5em;
    border-radius: 8px;
    display: inline-flex;
    align-items: center;
    gap: 0.3em;
    min-height: 44px;
  }
  .badge {
    display: inline-block;
    min-width: 1.4em;
    padding: 0 0.4em;
    border-radius: 999px;
    background: var(--_like);
    color: #fff;
    font-size: 0.8em;
    font-weight: 700;
    text-align: center;
  }
  [role="tablist"] {
    display: flex;
    gap: 0.3em;
    border-bottom: 1px solid var(--_border);
    padding-bottom: 0.4em;
  }
  [role="tab"] {
    border-color: transparent;
    background: none;
  }
  [role="tab"][aria-selected="true"] {
    background: var(--_surface);
    border-color: var(--_border);
    font-weight: 600;
  }
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  li {
    display: flex;
    align-items: center;
    gap: 0.5em;
    border-bottom: 1px solid var(--_border);
  }
  li a {
    flex: 1;
    display: grid;
    grid-template-columns: 1fr auto;
    grid-template-areas: "title time" "preview badge";
    gap: 0.1em 0.6em;
    padding: 0.6em 0.5em;
    color: inherit;
    text-decoration: none;
    min-width: 0;
  }
  li a[aria-current="page"] {
    background: var(--_surface);
  }
  .title {
    grid-area: title;
    font-weight: 600;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  li.unread .preview {
    color: var(--_fg);
    font-weight: 600;
  }
  .preview {
    grid-area: preview;
    color: var(--_muted);
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  time {
    grid-area: time;
    color: var(--_muted);
    font-size: 0.8em;
  }
  li a .badge {
    grid-area: badge;
    justify-self: end;
  }
  .decide {
    display: flex;
    gap: 0.3em;
    padding-right: 0.4em;
  }
  .muted {
    color: var(--_muted);
  }
`
