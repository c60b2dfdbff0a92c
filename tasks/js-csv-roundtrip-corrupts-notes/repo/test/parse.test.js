'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { parseRows } = require('../src');

describe('parseRows', () => {
  it('splits simple rows', () => {
    assert.deepEqual(parseRows('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
  });

  it('handles CRLF and skips blank lines', () => {
    assert.deepEqual(parseRows('a,b\r\n\r\n1,2'), [['a', 'b'], ['1', '2']]);
  });

  it('keeps empty fields', () => {
    assert.deepEqual(parseRows('a,,c\n'), [['a', '', 'c']]);
  });

  it('reads quoted fields with delimiters and doubled quotes', () => {
    assert.deepEqual(parseRows('"x, y","say ""hi"""\n'), [['x, y', 'say "hi"']]);
  });

  it('reads a quoted field that spans lines', () => {
    assert.deepEqual(parseRows('name,note\nAda,"line one\nline two"\nBob,ok\n'), [
      ['name', 'note'],
      ['Ada', 'line one\nline two'],
      ['Bob', 'ok'],
    ]);
  });

  it('supports another delimiter', () => {
    assert.deepEqual(parseRows('a;b\n"1;5";2\n', { delimiter: ';' }), [['a', 'b'], ['1;5', '2']]);
  });
});
