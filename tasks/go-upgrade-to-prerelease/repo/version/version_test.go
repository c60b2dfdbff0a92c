package version

import "testing"

func TestParse(t *testing.T) {
	cases := map[string]Version{
		"1.2.3":         {1, 2, 3, ""},
		"v10.0.1":       {10, 0, 1, ""},
		"2.0.0-beta.1":  {2, 0, 0, "beta.1"},
		"1.2.3+build.7": {1, 2, 3, ""},
	}
	for in, want := range cases {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v", in, got, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "1.2", "1.x.3", "1.2.3-", "-1.0.0"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func TestString(t *testing.T) {
	if s := MustParse("v2.0.0-rc.1+abc").String(); s != "2.0.0-rc.1" {
		t.Fatalf("got %q", s)
	}
}

func TestCompareReleases(t *testing.T) {
	if Compare(MustParse("1.10.0"), MustParse("1.9.9")) != 1 || Compare(MustParse("1.2.3"), MustParse("1.2.3")) != 0 {
		t.Fatal("wrong order")
	}
}

func TestComparePrereleases(t *testing.T) {
	lower := [][2]string{
		{"2.0.0-rc.1", "2.0.0"},
		{"2.0.0-beta.2", "2.0.0-rc.1"},
		{"2.0.0-beta.2", "2.0.0-beta.10"},
		{"2.0.0-1", "2.0.0-alpha"},
		{"2.0.0-alpha", "2.0.0-alpha.1"},
		{"1.9.9", "2.0.0-alpha"},
	}
	for _, pair := range lower {
		a, b := MustParse(pair[0]), MustParse(pair[1])
		if Compare(a, b) != -1 || Compare(b, a) != 1 {
			t.Errorf("want %s < %s", a, b)
		}
	}
}
