'use strict';

/** Split one CSV line into fields; "" inside a quoted field is a literal quote. */
function parseLine(line, delimiter) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}

/** Rows (arrays of strings) from CSV text. Blank lines are skipped. */
function parseRows(text, { delimiter = ',' } = {}) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    rows.push(parseLine(line, delimiter));
  }
  return rows;
}

module.exports = { parseRows };
