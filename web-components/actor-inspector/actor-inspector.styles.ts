import { css } from "lit"

export const styles = css`
  :host {
    --_cell: var(--ap-inspector-cell, 22px);
    --_unowned: var(--ap-inspector-unowned, var(--_muted));
    --_warn: var(--ap-inspector-warn, var(--_danger));
    font-size: 14px;
  }
  section {
    margin: 0 0 1.5em;
  }
  h2 {
    font-size: 1.1em;
    margin: 0 0 0.5em;
  }
  h3 {
    font-size: 1em;
    margin: 1em 0 0.4em;
  }
  h2:focus {
    outline: none;
  }
  .muted {
    color: var(--_muted);
  }
  .warn,
  .error,
  tr.failed,
  tr.dead,
  .forbidden {
    color: var(--_warn);
  }
  .forbidden {
    padding: 1em;
    border: 1px solid currentColor;
    border-radius: var(--_radius);
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
    align-items: center;
    margin: 0 0 0.6em;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    text-align: left;
    padding: 0.25em 0.5em;
    border-bottom: 1px solid var(--_border);
    overflow-wrap: break-word;
  }
  .n,
  .node,
  .rows td {
    white-space: nowrap;
  }
  thead th {
    white-space: nowrap;
    font-weight: 600;
    color: var(--_muted);
  }
  tbody th {
    font-weight: 500;
  }
  .n {
    text-align: right;
  }
  td.err {
    white-space: normal;
  }
  .scroll-x {
    overflow-x: auto;
  }
  .swatch {
    display: inline-block;
    width: 0.8em;
    height: 0.8em;
    border-radius: 3px;
    margin-right: 0.4em;
    vertical-align: -0.05em;
  }
  .unowned {
    background: repeating-linear-gradient(45deg, var(--_unowned) 0 2px, transparent 2px 6px);
    border: 1px solid var(--_unowned);
  }
  .legend,
  .rates {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4em 1.2em;
    list-style: none;
    margin: 0 0 0.6em;
    padding: 0;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fill, var(--_cell));
    gap: 3px;
    margin-bottom: 0.4em;
  }
  .cell {
    width: var(--_cell);
    height: var(--_cell);
    padding: 0;
    border-radius: 4px;
  }
  .cell.busy {
    box-shadow: inset 0 0 0 2px var(--_fg);
  }
  .cell[aria-pressed="true"] {
    outline: 2px solid var(--_fg);
    outline-offset: 1px;
  }
  .hot tbody tr {
    cursor: pointer;
  }
  .hot tbody tr:hover {
    background: var(--_surface);
  }
  button.link {
    border: 0;
    background: none;
    padding: 0;
    color: var(--_accent);
    text-decoration: underline;
    text-align: left;
    font-family: ui-monospace, monospace;
  }
  .key,
  pre,
  .tap td {
    font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  }
  .tag,
  .outcome {
    font-size: 0.85em;
    padding: 0 0.4em;
    border-radius: 6px;
    background: var(--_surface);
  }
  label.inline {
    display: inline-flex;
    gap: 0.5em;
    align-items: center;
    margin-bottom: 0.5em;
  }
  select {
    font: inherit;
    color: inherit;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 8px;
    padding: 0.3em;
  }
  .figures {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
    gap: 0.5em 1em;
    margin: 0;
  }
  dt {
    color: var(--_muted);
    font-size: 0.85em;
  }
  dd {
    margin: 0;
    font-weight: 600;
  }
  pre {
    margin: 0;
    padding: 0.8em;
    max-height: 24em;
    overflow: auto;
    background: var(--_surface);
    border-radius: var(--_radius);
  }
  .filter {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
    align-items: end;
  }
  .filter label {
    display: grid;
    gap: 0.2em;
    flex: 1 1 10em;
  }
  .rows {
    max-height: var(--ap-inspector-tail-height, 26em);
    overflow: auto;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    contain: content;
    overflow-anchor: none;
  }
  /* fixed layout: a row added does not lay the whole table out again */
  .rows table {
    table-layout: fixed;
    min-width: 62em;
  }
  .rows th:nth-child(1) {
    width: 8.5em;
  }
  .rows th:nth-child(2),
  .rows th:nth-child(4),
  .rows th:nth-child(7) {
    width: 9em;
  }
  .rows th:nth-child(5) {
    width: 6em;
  }
  .rows th:nth-child(6),
  .rows th:nth-child(8) {
    width: 5em;
  }
  .rows td {
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .rows tr.pad {
    border: 0;
  }
  .rows thead th {
    position: sticky;
    top: 0;
    background: var(--_bg);
  }
  .empty {
    padding: 0 0.8em;
  }
  .paused {
    font-weight: 600;
  }
`
