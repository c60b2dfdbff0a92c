'use strict';

const { parseRows } = require('./parse');
const { stringifyRows } = require('./stringify');

/** Objects keyed by the header row. Missing trailing fields become ''. */
function readRecords(text, options = {}) {
  const [header, ...rows] = parseRows(text, options);
  if (!header) return [];
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
}

/** CSV text with a header row: the given columns, or the keys of the first record. */
function writeRecords(records, { columns, ...options } = {}) {
  const names = columns || Object.keys(records[0] || {});
  const rows = records.map((record) => names.map((name) => record[name]));
  return stringifyRows([names, ...rows], options);
}

module.exports = { readRecords, writeRecords };
