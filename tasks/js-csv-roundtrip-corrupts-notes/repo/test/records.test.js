'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { readRecords, writeRecords } = require('../src');

describe('records', () => {
  it('reads objects keyed by the header', () => {
    assert.deepEqual(readRecords('name,age\nAda,36\nBob\n'), [
      { name: 'Ada', age: '36' },
      { name: 'Bob', age: '' },
    ]);
  });

  it('writes the chosen columns in order', () => {
    assert.equal(writeRecords([{ a: 1, b: 2 }], { columns: ['b', 'a'] }), 'b,a\n2,1\n');
  });

  it('round-trips contacts with awkward notes', () => {
    const contacts = [
      { name: 'Ada', note: '"Countess" to friends' },
      { name: 'Bob', note: 'call after 6pm\nnot on Sundays' },
      { name: 'Eve', note: 'plain, simple' },
    ];
    assert.deepEqual(readRecords(writeRecords(contacts)), contacts);
  });
});
