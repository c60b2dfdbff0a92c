'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { deepMerge } = require('../lib/merge');

describe('deepMerge', () => {
  it('merges nested objects', () => {
    const merged = deepMerge({ a: { x: 1, y: 2 } }, { a: { y: 3 }, b: 4 });
    assert.deepEqual(merged, { a: { x: 1, y: 3 }, b: 4 });
  });

  it('replaces arrays instead of concatenating', () => {
    assert.deepEqual(deepMerge({ list: [1, 2] }, { list: [3] }), { list: [3] });
  });

  it('ignores undefined values', () => {
    assert.deepEqual(deepMerge({ a: 1 }, { a: undefined }), { a: 1 });
  });

  it('applies several sources in order', () => {
    assert.deepEqual(deepMerge({ a: 1 }, { a: 2 }, { a: 3, b: 1 }), { a: 3, b: 1 });
  });

  it('does not mutate the target', () => {
    const target = { a: { x: 1 } };
    deepMerge(target, { a: { x: 2 }, b: 1 });
    assert.deepEqual(target, { a: { x: 1 } });
  });

  it('does not share nested objects with its inputs', () => {
    const target = { a: { x: 1 }, list: [1] };
    const merged = deepMerge(target, {});
    merged.a.x = 99;
    merged.list.push(2);
    assert.deepEqual(target, { a: { x: 1 }, list: [1] });
  });
});
