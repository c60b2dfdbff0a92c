'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Store } = require('../lib');

describe('Store', () => {
  it('merges patches and notifies with the previous state', () => {
    const store = new Store({ count: 0, name: 'a' });
    const seen = [];
    store.subscribe((state, previous) => seen.push([state.count, previous.count]));
    store.setState({ count: 1 });
    store.setState((s) => ({ count: s.count + 1 }));
    assert.deepEqual(seen, [[1, 0], [2, 1]]);
    assert.equal(store.getState().name, 'a');
  });

  it('does not notify when nothing changed', () => {
    const store = new Store({ count: 0 });
    let calls = 0;
    store.subscribe(() => calls++);
    assert.equal(store.setState({ count: 0 }), false);
    assert.equal(calls, 0);
  });

  it('unsubscribe stops notifications', () => {
    const store = new Store({ count: 0 });
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    unsubscribe();
    store.setState({ count: 1 });
    assert.equal(calls, 0);
  });

  describe('when', () => {
    it('fires immediately if the condition already holds', () => {
      const store = new Store({ loaded: true });
      let fired = 0;
      store.when((s) => s.loaded, () => fired++);
      assert.equal(fired, 1);
    });

    it('fires once, after the change that makes it true', () => {
      const store = new Store({ loaded: false });
      let fired = 0;
      store.when((s) => s.loaded, () => fired++);
      store.setState({ loaded: true });
      store.setState({ loaded: false });
      store.setState({ loaded: true });
      assert.equal(fired, 1);
    });

    it('does not hide that change from later subscribers', () => {
      const store = new Store({ loaded: false, items: 0 });
      const badge = [];
      store.when((s) => s.loaded, () => {});
      store.subscribe((s) => badge.push(s.items));
      store.setState({ loaded: true, items: 3 });
      assert.deepEqual(badge, [3]);
    });
  });
});
