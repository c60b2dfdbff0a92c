'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Emitter } = require('../lib');

describe('Emitter', () => {
  it('calls listeners in order with the arguments', () => {
    const e = new Emitter();
    const seen = [];
    e.on('x', (a, b) => seen.push(['first', a, b]));
    e.on('x', (a, b) => seen.push(['second', a, b]));
    assert.equal(e.emit('x', 1, 2), true);
    assert.deepEqual(seen, [['first', 1, 2], ['second', 1, 2]]);
  });

  it('returns false without listeners', () => {
    assert.equal(new Emitter().emit('nothing'), false);
  });

  it('off removes a listener', () => {
    const e = new Emitter();
    let calls = 0;
    const fn = () => calls++;
    e.on('x', fn);
    e.off('x', fn);
    e.emit('x');
    assert.equal(calls, 0);
    assert.equal(e.listenerCount('x'), 0);
  });

  describe('once', () => {
    it('runs a single time', () => {
      const e = new Emitter();
      let calls = 0;
      e.once('x', () => calls++);
      e.emit('x');
      e.emit('x');
      assert.equal(calls, 1);
    });

    it('can be removed with the original function', () => {
      const e = new Emitter();
      const fn = () => assert.fail('should not run');
      e.once('x', fn);
      e.off('x', fn);
      e.emit('x');
    });

    it('leaves the other listeners of the event alone', () => {
      const e = new Emitter();
      const seen = [];
      e.once('x', () => seen.push('once'));
      e.on('x', () => seen.push('always'));
      e.emit('x');
      e.emit('x');
      assert.deepEqual(seen, ['once', 'always', 'always']);
    });
  });
});
