'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Cart } = require('../src');

describe('Cart', () => {
  it('sums lines', () => {
    const cart = new Cart().add('tea', 3.5, 2).add('mug', 8);
    assert.equal(cart.subtotalCents(), 1500);
  });

  it('merges repeated products', () => {
    const cart = new Cart().add('tea', 3.5).add('tea', 3.5, 2);
    assert.equal(cart.lines.get('tea').qty, 3);
  });

  it('applies a percentage discount', () => {
    const cart = new Cart().add('mug', 8).add('tea', 2).setDiscount(15);
    assert.deepEqual(cart.summary(), { subtotal: '€10.00', discount: '€1.50', total: '€8.50' });
  });

  it('total matches the prices shown in the shop', () => {
    const cart = new Cart().add('stickers', 1.15, 3).add('pen', 4.35).add('clip', 0.29, 10);
    assert.equal(cart.summary().total, '€10.70');
  });

  it('rejects a zero quantity', () => {
    assert.throws(() => new Cart().add('tea', 3.5, 0), RangeError);
  });
});
