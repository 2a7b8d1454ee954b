package amount

import (
	"errors"
	"math/big"
	"strconv"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		mark Mark
		want string // the value with 4 decimals; "" = an error
		err  error
	}{
		{"plain point", "5.99", Unknown, "5.9900", nil},
		{"decimal comma", "5,99", Unknown, "5.9900", nil},
		{"whole", "1234", Unknown, "1234.0000", nil},
		{"negative", "-3", Unknown, "-3.0000", nil},
		{"grouped with a point decimal", "1,234.56", Unknown, "1234.5600", nil},
		{"German grouped", "1.234,56", Unknown, "1234.5600", nil},
		{"French no-break space", "1\u00a0234,56", Unknown, "1234.5600", nil},
		{"narrow no-break space", "1\u202f234\u202f567,5", Unknown, "1234567.5000", nil},
		{"Swiss apostrophe", "1'234.50", Unknown, "1234.5000", nil},
		{"comma repeated groups", "1,000,000", Unknown, "1000000.0000", nil},
		{"point repeated groups", "1.000.000", Unknown, "1000000.0000", nil},
		{"lone comma, three digits: ambiguous", "1,234", Unknown, "", ErrAmbiguous},
		{"lone point, three digits: ambiguous", "1.234", Unknown, "", ErrAmbiguous},
		{"USD 1,000 ambiguous", "1,000", Unknown, "", ErrAmbiguous},
		{"lone comma with the comma mark", "1,234", Comma, "1.2340", nil},
		{"lone comma with the point mark", "1,234", Point, "1234.0000", nil},
		{"lone point with the comma mark", "1.234", Comma, "1234.0000", nil},
		{"four digits before: a decimal", "1234,567", Unknown, "1234.5670", nil},
		{"leading zero: a decimal", "0,125", Unknown, "0.1250", nil},
		{"space group then comma: a decimal", "1 234,567", Unknown, "1234.5670", nil},
		{"leading mark", ".5", Unknown, "0.5000", nil},
		{"leading mark against the mark", ".5", Comma, "", ErrNotAmount},
		{"groups of two", "1,23,456.00", Unknown, "", ErrNotAmount},
		{"group after the decimal mark", "1.234,567.8", Unknown, "", ErrNotAmount},
		{"two decimal marks", "1.2.3", Unknown, "", ErrNotAmount},
		{"letters", "12 EUR", Unknown, "", ErrNotAmount},
		{"empty", "", Unknown, "", ErrNotAmount},
		{"trailing separator", "12,", Unknown, "", ErrNotAmount},
		{"exponent", "1e3", Unknown, "", ErrNotAmount},
		{"fraction", "1/3", Unknown, "", ErrNotAmount},
		{"comma mark refuses a point decimal", "5.99", Comma, "", ErrNotAmount},
		{"mixed grouping", "1,234 567", Unknown, "", ErrNotAmount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Text(tc.in, tc.mark)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Text(%q, %q) = %v, %v; want error %v", tc.in, tc.mark, got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Text(%q, %q): %v", tc.in, tc.mark, err)
			}
			if s := got.FloatString(4); s != tc.want {
				t.Errorf("Text(%q, %q) = %s, want %s", tc.in, tc.mark, s, tc.want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "5.99", "5.99"},
		{"negative", "-12.5", "-12.50"},
		{"exponent as a spreadsheet stores it", "1.5E-3", "0.00"},
		{"whole", "448", "448.00"},
		{"a grouped text is no number cell", "1,234", ""},
		{"a fraction is not", "1/3", ""},
		{"hex is not", "0x10", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Number(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Number(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got.FloatString(2) != tc.want {
				t.Fatalf("Number(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  Mark
	}{
		{"decimal commas", []string{"5,99", "1,234", "12"}, Comma},
		{"grouped points", []string{"1.234.567", "1.234"}, Comma},
		{"decimal points", []string{"1,234.50", "1,234"}, Point},
		{"nothing but ambiguous", []string{"1,234", "1,000"}, Unknown},
		{"disagreeing", []string{"5,99", "5.99"}, Unknown},
		{"none", nil, Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e Evidence
			for _, s := range tc.texts {
				e.See(s)
			}
			if got := e.Mark(); got != tc.want {
				t.Errorf("Mark() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecimals(t *testing.T) {
	for code, want := range map[string]int{"JPY": 0, "USD": 2, "EUR": 2, "BHD": 3, "KWD": 3, "CLF": 4, "": 2, "ZZZ": 2, " jpy ": 0} {
		if got := Decimals(code); got != want {
			t.Errorf("Decimals(%q) = %d, want %d", code, got, want)
		}
	}
	if got := Format(big.NewRat(1234, 1), "JPY"); got != "1234" {
		t.Errorf("Format(1234, JPY) = %s", got)
	}
}

// FuzzRead: the reader never returns a value for a text it calls ambiguous,
// a number cell reads as its number, and a text read without a mark that
// reads one way reads the same with that mark given.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"5.99", "5,99", "1,234", "1.234,56", "1\u00a0234,56", "-0.5", "1E3", ".5", "1'234", "1,000,000", "0,125"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range []Mark{Unknown, Comma, Point} {
			r, err := Text(s, m)
			if errors.Is(err, ErrAmbiguous) {
				if r != nil {
					t.Fatalf("Text(%q, %q) = %v with an ambiguity", s, m, r)
				}
				if m != Unknown {
					t.Fatalf("Text(%q, %q) ambiguous with a mark given", s, m)
				}
				for _, mm := range []Mark{Comma, Point} {
					a, aerr := Text(s, mm)
					if aerr != nil {
						t.Fatalf("ambiguous %q does not read with mark %q: %v", s, mm, aerr)
					}
					if mm == Comma {
						b, _ := Text(s, Point)
						if a.Cmp(b) == 0 {
							t.Fatalf("ambiguous %q reads the same both ways: %v", s, a)
						}
					}
				}
			}
			if err == nil && m == Unknown {
				var e Evidence
				e.See(s)
				if em := e.Mark(); em != Unknown {
					if again, aerr := Text(s, em); aerr != nil || again.Cmp(r) != 0 {
						t.Fatalf("Text(%q) = %v, but with its own mark %q: %v, %v", s, r, em, again, aerr)
					}
				}
			}
		}
		n, err := Number(s)
		if err != nil {
			return
		}
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			if errors.Is(ferr, strconv.ErrRange) {
				return
			}
			t.Fatalf("Number(%q) = %v, but ParseFloat: %v", s, n, ferr)
		}
		if got, _ := n.Float64(); got != fl {
			t.Fatalf("Number(%q) = %v (%g), the cell's number is %g", s, n, got, fl)
		}
	})
}
