'use strict';

// Our billing team works from New York; run the date tests there.
process.env.TZ = 'America/New_York';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { dueDay, daysOverdue, weekday } = require('../src');

describe('terms', () => {
  it('net 0 is due the same day', () => {
    assert.equal(dueDay('2024-01-15', 0), '2024-01-15');
  });

  it('net 30', () => {
    assert.equal(dueDay('2024-03-01', 30), '2024-03-31');
  });

  it('net 30 across the autumn clock change', () => {
    assert.equal(dueDay('2024-10-20', 30), '2024-11-19');
  });

  it('rejects negative terms', () => {
    assert.throws(() => dueDay('2024-01-15', -1), RangeError);
  });

  it('counts days overdue', () => {
    assert.equal(daysOverdue('2024-01-15', '2024-01-20'), 5);
    assert.equal(daysOverdue('2024-01-15', '2024-01-10'), 0);
  });

  it('names the weekday of a due date', () => {
    assert.equal(weekday('2024-03-10'), 'Sunday');
  });
});
