'use strict';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The Date at local midnight of a 'YYYY-MM-DD' calendar day. */
function parseDay(text) {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    throw new RangeError(`not a day: ${text}`);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a day: ${text}`);
  return date;
}

/** 'YYYY-MM-DD' for the local calendar day of date. */
function formatDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A new Date n calendar days after date (n may be negative). */
function addDays(date, n) {
  return new Date(date.getTime() + n * DAY_MS);
}

/** Whole calendar days from a to b. */
function daysBetween(a, b) {
  return Math.round((b.getTime() - a.getTime()) / DAY_MS);
}

module.exports = { parseDay, formatDay, addDays, daysBetween };
