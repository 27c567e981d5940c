/**
 * A plain, accessible HTML table: a caption, column headers, one header cell per row; sortable
 * by any column whose header is a button (its state in `aria-sort`), in a scroll box a keyboard
 * can reach. On a phone the columns marked `optional` are left out, so the rest fit unscrolled.
 */
export interface Column<Row> {
  label: string
  value: (row: Row) => string
  /** What to sort by; the shown value when not given. */
  sort?: (row: Row) => number | string
  /** A tooltip with the exact figure behind a rounded one. */
  title?: (row: Row) => string
  /** Right-aligned, for figures. */
  numeric?: boolean
  /** Left out on a narrow screen (see dashboard.css): never Spend or Errors. */
  optional?: boolean
}

export function renderTable<Row>(caption: string, columns: Column<Row>[], rows: Row[]): HTMLTableElement {
  const table = document.createElement('table')
  table.createCaption().textContent = caption
  const head = table.createTHead().insertRow()
  const body = table.createTBody()
  let sorted = { by: -1, descending: false }

  const fill = (ordered: Row[]) => {
    body.replaceChildren()
    for (const row of ordered) {
      const tr = body.insertRow()
      columns.forEach((column, i) => {
        // The first column names the row, for screen readers reading a cell.
        const cell = document.createElement(i === 0 ? 'th' : 'td')
        if (i === 0) (cell as HTMLTableCellElement).scope = 'row'
        cell.textContent = column.value(row)
        if (column.title) cell.title = column.title(row)
        cell.className = classOf(column)
        tr.append(cell)
      })
    }
    if (!rows.length) {
      const cell = body.insertRow().insertCell()
      cell.colSpan = columns.length
      cell.textContent = 'Nothing in this range.'
    }
  }

  columns.forEach((column, i) => {
    const th = document.createElement('th')
    th.scope = 'col'
    th.className = classOf(column)
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'sort'
    button.textContent = column.label
    button.addEventListener('click', () => {
      // Figures sort largest first on the first press, names A to Z.
      sorted = { by: i, descending: sorted.by === i ? !sorted.descending : Boolean(column.numeric) }
      for (const other of head.cells) other.removeAttribute('aria-sort')
      th.setAttribute('aria-sort', sorted.descending ? 'descending' : 'ascending')
      const key = column.sort ?? column.value
      fill(
        [...rows].sort((a, b) => {
          const [x, y] = [key(a), key(b)]
          const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
          return sorted.descending ? -order : order
        }),
      )
    })
    th.append(button)
    head.append(th)
  })
  fill(rows)
  return table
}

/**
 * `table` in a box that scrolls sideways when it must: in the tab order, so a keyboard can scroll
 * it too (axe's `scrollable-region-focusable`), and named by its caption. A group, not a region:
 * the section around it is the landmark already, often of the same name.
 */
export function scrollBox(table: HTMLTableElement): HTMLDivElement {
  const box = document.createElement('div')
  box.className = 'table'
  box.tabIndex = 0
  box.setAttribute('role', 'group')
  box.setAttribute('aria-label', table.caption?.textContent ?? 'Table')
  box.append(table)
  return box
}

const classOf = (column: { numeric?: boolean; optional?: boolean }) =>
  [column.numeric && 'numeric', column.optional && 'optional'].filter(Boolean).join(' ')
