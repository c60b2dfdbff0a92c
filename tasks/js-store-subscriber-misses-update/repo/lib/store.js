'use strict';

const { Emitter } = require('./emitter');

/** Holds a state object; setState merges a patch and notifies subscribers with (state, previous). */
class Store {
  constructor(initial = {}) {
    this.state = Object.freeze({ ...initial });
    this.events = new Emitter();
  }

  getState() {
    return this.state;
  }

  setState(patch) {
    const previous = this.state;
    const next = typeof patch === 'function' ? patch(previous) : patch;
    const changed = Object.keys(next).some((key) => !Object.is(next[key], previous[key]));
    if (!changed) return false;
    this.state = Object.freeze({ ...previous, ...next });
    this.events.emit('change', this.state, previous);
    return true;
  }

  subscribe(fn) {
    return this.events.on('change', fn);
  }

  /** Calls fn with the state the first time predicate(state) holds (now or after a change). */
  when(predicate, fn) {
    if (predicate(this.state)) {
      fn(this.state);
      return () => {};
    }
    const unsubscribe = this.subscribe((state) => {
      if (!predicate(state)) return;
      unsubscribe();
      fn(state);
    });
    return unsubscribe;
  }
}

module.exports = { Store };
