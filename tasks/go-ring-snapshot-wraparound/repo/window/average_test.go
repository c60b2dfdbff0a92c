package window

import "testing"

func TestAverageBeforeFull(t *testing.T) {
	m := NewMovingAverage(5)
	m.Add(2)
	m.Add(4)
	if got := m.Value(); got != 3 {
		t.Errorf("Value = %v, want 3", got)
	}
}

func TestAverageEmpty(t *testing.T) {
	if got := NewMovingAverage(3).Value(); got != 0 {
		t.Errorf("Value = %v, want 0", got)
	}
}

func TestAverageAfterWindowSlides(t *testing.T) {
	m := NewMovingAverage(3)
	for _, v := range []float64{100, 1, 2, 3} {
		m.Add(v)
	}
	if got := m.Value(); got != 2 {
		t.Errorf("Value = %v, want 2", got)
	}
}
