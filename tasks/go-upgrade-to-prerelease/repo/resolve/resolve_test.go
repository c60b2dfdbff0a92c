package resolve

import (
	"errors"
	"fmt"
	"testing"
)

func TestLatestInRange(t *testing.T) {
	got, err := Latest([]string{"1.2.0", "1.4.1", "v1.9.3", "latest", "2.1.0"}, "^1.4.0")
	if err != nil || got != "1.9.3" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestLatestNoMatch(t *testing.T) {
	if _, err := Latest([]string{"1.0.0"}, ">=2.0.0"); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("got %v", err)
	}
}

func TestLatestSkipsPrereleases(t *testing.T) {
	got, err := Latest([]string{"1.4.0", "1.9.3", "2.0.0-beta.1", "2.0.0-rc.1"}, ">=1.4.0")
	if err != nil || got != "1.9.3" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestLatestPrefersFinalRelease(t *testing.T) {
	got, err := Latest([]string{"2.0.0-rc.1", "2.0.0", "1.9.3"}, ">=2.0.0-beta.1")
	if err != nil || got != "2.0.0" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestSorted(t *testing.T) {
	got := Sorted([]string{"2.0.0", "2.0.0-rc.1", "1.9.3", "2.0.0-beta.10", "2.0.0-beta.2", "junk"})
	want := "[1.9.3 2.0.0-beta.2 2.0.0-beta.10 2.0.0-rc.1 2.0.0]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
}
