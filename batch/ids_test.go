package batch

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
