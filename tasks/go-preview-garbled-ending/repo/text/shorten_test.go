package text

import (
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "hello", 10, "hello"},
		{"exact", "hello", 5, "hello"},
		{"cut", "hello world", 8, "hello w…"},
		{"zero", "hello", 0, ""},
		{"umlauts", "Größenänderung", 6, "Größe…"},
		{"japanese", "東京で新しい展覧会", 5, "東京で新…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Truncate(c.in, c.n)
			if got != c.want || !utf8.ValidString(got) {
				t.Fatalf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
			}
		})
	}
}

func TestExcerptCutsBetweenWords(t *testing.T) {
	got := Excerpt("The quick brown fox jumps over the lazy dog", 22)
	if got != "The quick brown fox…" {
		t.Fatalf("got %q", got)
	}
}

func TestExcerptCollapsesWhitespace(t *testing.T) {
	if got := Excerpt("  a \n\t b  ", 10); got != "a b" {
		t.Fatalf("got %q", got)
	}
}

func TestExcerptWithoutSpaces(t *testing.T) {
	got := Excerpt("新しい展覧会が今週末に始まります", 8)
	if got != "新しい展覧会が…" {
		t.Fatalf("got %q", got)
	}
}
