package wordfreq

import (
	"reflect"
	"testing"
)

func TestWords(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"single spaces", "The cat saw the dog", []string{"the", "cat", "saw", "the", "dog"}},
		{"punctuation", "Hello, world! (Really?)", []string{"hello", "world", "really"}},
		{"newlines", "one\ntwo\n\nthree", []string{"one", "two", "three"}},
		{"tabs", "apple\tbanana\tapple", []string{"apple", "banana", "apple"}},
		{"windows line endings", "start middle\r\nend\r\n", []string{"start", "middle", "end"}},
		{"repeated spaces", "a  b   c", []string{"a", "b", "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Words(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	got := Count("a b a c a b")
	want := map[string]int{"a": 3, "b": 2, "c": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Count = %v, want %v", got, want)
	}
}

func TestCountMixedWhitespace(t *testing.T) {
	got := Count("end\r\nend\tstart end")
	if got["end"] != 3 || got["start"] != 1 || len(got) != 2 {
		t.Errorf("Count = %v, want map[end:3 start:1]", got)
	}
}
