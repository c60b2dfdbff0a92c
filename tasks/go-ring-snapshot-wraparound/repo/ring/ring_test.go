package ring

import (
	"reflect"
	"testing"
)

func TestPushWithinCapacity(t *testing.T) {
	b := New(4)
	b.Push(1)
	b.Push(2)
	if got := b.Snapshot(); !reflect.DeepEqual(got, []float64{1, 2}) {
		t.Errorf("Snapshot = %v, want [1 2]", got)
	}
}

func TestLenStopsAtCapacity(t *testing.T) {
	b := New(3)
	for i := 0; i < 10; i++ {
		b.Push(float64(i))
	}
	if b.Len() != 3 || b.Cap() != 3 {
		t.Errorf("Len/Cap = %d/%d, want 3/3", b.Len(), b.Cap())
	}
}

func TestSnapshotAfterWrap(t *testing.T) {
	b := New(4)
	for i := 1; i <= 6; i++ {
		b.Push(float64(i))
	}
	if got := b.Snapshot(); !reflect.DeepEqual(got, []float64{3, 4, 5, 6}) {
		t.Errorf("Snapshot = %v, want [3 4 5 6]", got)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	b := New(2)
	b.Push(1)
	s := b.Snapshot()
	s[0] = 42
	if b.Snapshot()[0] != 1 {
		t.Error("changing a snapshot changed the buffer")
	}
}
