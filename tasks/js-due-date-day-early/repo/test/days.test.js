'use strict';

// Our billing team works from New York; run the date tests there.
process.env.TZ = 'America/New_York';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { parseDay, formatDay, addDays, daysBetween } = require('../src');

describe('days', () => {
  it('formatDay pads months and days', () => {
    assert.equal(formatDay(new Date(2024, 0, 5)), '2024-01-05');
  });

  it('parseDay rejects other formats', () => {
    assert.throws(() => parseDay('03/10/2024'), RangeError);
    assert.throws(() => parseDay('2024-3-1'), RangeError);
  });

  it('parseDay gives the calendar day it was given', () => {
    const date = parseDay('2024-03-10');
    assert.deepEqual([date.getFullYear(), date.getMonth(), date.getDate()], [2024, 2, 10]);
  });

  it('addDays crosses month ends', () => {
    assert.equal(formatDay(addDays(new Date(2024, 0, 31), 1)), '2024-02-01');
    assert.equal(formatDay(addDays(new Date(2024, 2, 1), -1)), '2024-02-29');
  });

  it('addDays over the end of daylight saving time', () => {
    assert.equal(formatDay(addDays(new Date(2024, 10, 3), 1)), '2024-11-04');
  });

  it('daysBetween counts calendar days', () => {
    assert.equal(daysBetween(new Date(2024, 2, 9), new Date(2024, 2, 12)), 3);
  });
});
