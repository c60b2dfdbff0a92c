package wordfreq

import (
	"reflect"
	"testing"
)

func TestTop(t *testing.T) {
	counts := map[string]int{"b": 2, "a": 2, "c": 5, "d": 1}
	want := []WordCount{{"c", 5}, {"a", 2}, {"b", 2}}
	if got := Top(counts, 3); !reflect.DeepEqual(got, want) {
		t.Errorf("Top = %v, want %v", got, want)
	}
}

func TestTopMoreThanAvailable(t *testing.T) {
	if got := Top(map[string]int{"x": 1}, 10); len(got) != 1 {
		t.Errorf("Top = %v, want one entry", got)
	}
}
