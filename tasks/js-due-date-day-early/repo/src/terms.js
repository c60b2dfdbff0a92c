'use strict';

const { parseDay, formatDay, addDays, daysBetween } = require('./days');

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The day an invoice issued on issuedDay is due, with net terms of netDays. */
function dueDay(issuedDay, netDays) {
  if (!Number.isInteger(netDays) || netDays < 0) throw new RangeError('netDays must be a whole number >= 0');
  return formatDay(addDays(parseDay(issuedDay), netDays));
}

/** How many days past due an invoice is on today (0 when not overdue). */
function daysOverdue(due, today) {
  return Math.max(0, daysBetween(parseDay(due), parseDay(today)));
}

/** 'Monday', ... for a 'YYYY-MM-DD' day. */
function weekday(day) {
  return WEEKDAYS[parseDay(day).getDay()];
}

module.exports = { dueDay, daysOverdue, weekday };
