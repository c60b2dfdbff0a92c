'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { globToRegExp } = require('../src');

const matches = (glob, path) => globToRegExp(glob).test(path);

describe('globToRegExp', () => {
  it('star stays within a segment', () => {
    assert.ok(matches('*.log', 'app.log'));
    assert.ok(!matches('*.log', 'logs/app.log'));
  });

  it('dot is literal', () => {
    assert.ok(!matches('*.log', 'app-log'));
  });

  it('question mark matches one character', () => {
    assert.ok(matches('v?.txt', 'v1.txt'));
    assert.ok(!matches('v?.txt', 'v10.txt'));
  });

  it('double star crosses folders', () => {
    assert.ok(matches('docs/**/*.md', 'docs/a/b/c.md'));
    assert.ok(matches('docs/**/*.md', 'docs/c.md'));
  });

  it('treats regex characters in names literally', () => {
    assert.ok(matches('c++', 'c++'));
    assert.ok(matches('Notes (old)', 'Notes (old)'));
    assert.ok(!matches('a+b', 'aab'));
    assert.ok(matches('$HOME', '$HOME'));
  });
});
