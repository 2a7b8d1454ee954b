package kind

import "testing"

func TestIdentifierShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s                     string
		exponent, zero, ident bool
	}{
		{"3.5E+14", true, false, false},
		{"1e5", true, false, true},
		{"1.2345678901234568E+19", true, false, false},
		{"3.E+14", false, false, false},
		{"E+14", false, false, false},
		{"3.5E+", false, false, false},
		{"12345.0", false, true, true},
		{"12345.00", false, true, true},
		{"12345.01", false, false, true},
		{".0", false, false, true},
		{"ESN-0001", false, false, true},
		{"ESN 0001", false, false, false},
		{"", false, false, false},
		{"É", false, false, false},
	} {
		t.Run(tc.s, func(t *testing.T) {
			if got := exponentForm(tc.s); got != tc.exponent {
				t.Errorf("exponentForm = %v", got)
			}
			if got := decimalZero(tc.s); got != tc.zero {
				t.Errorf("decimalZero = %v", got)
			}
			if got := identChars(tc.s); got != tc.ident {
				t.Errorf("identChars = %v", got)
			}
		})
	}
}

func TestSignificantDigits(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{
		"0000000000012345":     5,  // 12345 through the format 0000000000000000
		"12345678901234567000": 20, // trailing zeros count: they may be rounding
		"350000000000000":      15,
		"ESN000042":            2,
		"1234-5678":            8,
		"0":                    0,
		"":                     0,
	} {
		if got := significantDigits(s); got != want {
			t.Errorf("significantDigits(%q) = %d, want %d", s, got, want)
		}
	}
}
