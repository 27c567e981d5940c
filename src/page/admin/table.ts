/** A plain, accessible HTML table: a caption, column headers, one header cell per row. */
export interface Column<Row> {
  label: string
  value: (row: Row) => string
  /** Right-aligned, for figures. */
  numeric?: boolean
}

export function renderTable<Row>(caption: string, columns: Column<Row>[], rows: Row[]): HTMLTableElement {
  const table = document.createElement('table')
  table.createCaption().textContent = caption
  const head = table.createTHead().insertRow()
  for (const column of columns) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = column.label
    if (column.numeric) th.className = 'numeric'
    head.append(th)
  }
  const body = table.createTBody()
  for (const row of rows) {
    const tr = body.insertRow()
    columns.forEach((column, i) => {
      // The first column names the row, for screen readers reading a cell.
      const cell = document.createElement(i === 0 ? 'th' : 'td')
      if (i === 0) (cell as HTMLTableCellElement).scope = 'row'
      cell.textContent = column.value(row)
      if (column.numeric) cell.className = 'numeric'
      tr.append(cell)
    })
  }
  if (!rows.length) {
    const cell = body.insertRow().insertCell()
    cell.colSpan = columns.length
    cell.textContent = 'Nothing in this range.'
  }
  return table
}
