'use strict';

function formatField(value, delimiter) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (text.includes(delimiter)) return `"${text}"`;
  return text;
}

/** CSV text from rows (arrays of values), lines ending in \n. */
function stringifyRows(rows, { delimiter = ',' } = {}) {
  return rows.map((row) => row.map((value) => formatField(value, delimiter)).join(delimiter) + '\n').join('');
}

module.exports = { stringifyRows };
