package constraint

import (
	"testing"

	"example.com/depbot/version"
)

func allows(t *testing.T, c, v string) bool {
	t.Helper()
	parsed, err := Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Allows(version.MustParse(v))
}

func TestRanges(t *testing.T) {
	if !allows(t, ">=1.2.0, <2.0.0", "1.9.0") || allows(t, ">=1.2.0, <2.0.0", "2.0.0") || allows(t, ">1.2.0", "1.2.0") {
		t.Fatal("range check wrong")
	}
}

func TestCaretAndTilde(t *testing.T) {
	if !allows(t, "^1.4.0", "1.9.3") || allows(t, "^1.4.0", "2.0.0") || allows(t, "^0.3.1", "0.4.0") {
		t.Fatal("caret wrong")
	}
	if !allows(t, "~1.4.2", "1.4.9") || allows(t, "~1.4.2", "1.5.0") {
		t.Fatal("tilde wrong")
	}
}

func TestExact(t *testing.T) {
	if !allows(t, "1.2.3", "1.2.3") || allows(t, "=1.2.3", "1.2.4") {
		t.Fatal("exact wrong")
	}
}

func TestBadConstraint(t *testing.T) {
	if _, err := Parse(">=one"); err == nil {
		t.Fatal("accepted garbage")
	}
}

func TestPrereleasesNeedOptIn(t *testing.T) {
	if allows(t, ">=1.4.0", "2.0.0-beta.1") || allows(t, "^1.4.0", "1.5.0-rc.1") {
		t.Fatal("a plain range allowed a prerelease")
	}
	if !allows(t, ">=2.0.0-beta.1", "2.0.0-rc.1") {
		t.Fatal("a range naming a prerelease should allow later prereleases of that version")
	}
	if allows(t, ">=2.0.0-beta.1", "2.0.0-alpha.3") {
		t.Fatal("alpha.3 is before beta.1")
	}
}
