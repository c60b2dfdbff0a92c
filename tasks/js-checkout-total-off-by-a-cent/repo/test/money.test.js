'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { toCents, formatCents, splitCents } = require('../src');

describe('toCents', () => {
  it('converts whole and half prices', () => {
    assert.equal(toCents(12), 1200);
    assert.equal(toCents(12.5), 1250);
  });

  it('converts prices like 1.15 and 4.35 exactly', () => {
    assert.equal(toCents(1.15), 115);
    assert.equal(toCents(4.35), 435);
    assert.equal(toCents(0.29), 29);
  });

  it('rejects non-numbers', () => {
    assert.throws(() => toCents('1.00'), TypeError);
    assert.throws(() => toCents(NaN), TypeError);
  });
});

describe('formatCents', () => {
  it('pads cents', () => {
    assert.equal(formatCents(1205), '€12.05');
  });

  it('formats negative amounts', () => {
    assert.equal(formatCents(-50, '$'), '-$0.50');
  });
});

describe('splitCents', () => {
  it('adds up exactly', () => {
    assert.deepEqual(splitCents(1000, 3), [334, 333, 333]);
  });
});
