package feed

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNotifyKeepsShortTitles(t *testing.T) {
	n := Notify(Article{Title: "Rain expected", Body: "Bring an umbrella."})
	if n.Title != "Rain expected" || n.Preview != "Bring an umbrella." {
		t.Fatalf("got %+v", n)
	}
}

func TestNotifyShortensLongTitles(t *testing.T) {
	n := Notify(Article{Title: strings.Repeat("a", 50)})
	if n.Title != strings.Repeat("a", 39)+"…" {
		t.Fatalf("got %q", n.Title)
	}
}

func TestNotifyGermanTitle(t *testing.T) {
	title := "Überraschung: Bürgermeisterin eröffnet größte Brücke Süddeutschlands"
	n := Notify(Article{Title: title})
	if !utf8.ValidString(n.Title) || utf8.RuneCountInString(n.Title) != 40 {
		t.Fatalf("got %q (%d characters)", n.Title, utf8.RuneCountInString(n.Title))
	}
}

func TestNotifyJapanesePreview(t *testing.T) {
	body := strings.Repeat("新しい展覧会が今週末に始まります。", 10)
	n := Notify(Article{Title: "展覧会", Body: body})
	if !utf8.ValidString(n.Preview) || utf8.RuneCountInString(n.Preview) != 90 {
		t.Fatalf("got %q (%d characters)", n.Preview, utf8.RuneCountInString(n.Preview))
	}
}

func TestLatest(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 3, d, 12, 0, 0, 0, time.UTC) }
	got := Latest([]Article{{Title: "a", Published: day(1)}, {Title: "c", Published: day(3)}, {Title: "b", Published: day(2)}}, 2)
	if len(got) != 2 || got[0].Title != "c" || got[1].Title != "b" {
		t.Fatalf("got %+v", got)
	}
}
