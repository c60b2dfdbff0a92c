'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { stringifyRows } = require('../src');

describe('stringifyRows', () => {
  it('joins plain values', () => {
    assert.equal(stringifyRows([['a', 1, true]]), 'a,1,true\n');
  });

  it('writes null and undefined as empty fields', () => {
    assert.equal(stringifyRows([[null, undefined, 'x']]), ',,x\n');
  });

  it('quotes fields that contain the delimiter', () => {
    assert.equal(stringifyRows([['x, y', 'z']]), '"x, y",z\n');
  });

  it('escapes quotes inside fields', () => {
    assert.equal(stringifyRows([['say "hi"']]), '"say ""hi"""\n');
  });

  it('quotes fields with line breaks', () => {
    assert.equal(stringifyRows([['one\ntwo', 'x']]), '"one\ntwo",x\n');
  });
});
