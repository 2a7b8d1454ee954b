package xlsx

import (
	"strings"
	"testing"
)

// TestNumberPatterns: formats that pad with zeros or add text are applied as
// Excel shows them; others leave the stored number; what cannot be rendered
// is named.
func TestNumberPatterns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, raw string
		want      string // "" = the stored number is the value
		odd       string
	}{
		{code: "000000000000", raw: "123", want: "000000000123"},
		{code: "000000000000", raw: "123456789012345", want: "123456789012345"},
		{code: `"pci"000`, raw: "4", want: "pci004"},
		{code: `"pci"000`, raw: "12345", want: "pci12345"},
		{code: `\E\S\N0000`, raw: "7", want: "ESN0007"},
		{code: `0000\-0000`, raw: "12345678", want: "1234-5678"},
		{code: `0000\-0000`, raw: "5678", want: "0000-5678"},
		{code: `00000`, raw: "-42", want: "-00042"},
		{code: `00000;"neg"00000`, raw: "-42", want: "neg00042"},
		{code: `00000;00000;"none"`, raw: "0", want: "none"},
		{code: `"ID-"General`, raw: "12.5", want: "ID-12.5"},
		{code: `#,##0.00 "kg"`, raw: "1234.5", want: "1,234.50 kg"},
		{code: `0.0# "m"`, raw: "2.5", want: "2.5 m"},
		{code: `0.0# "m"`, raw: "2.567", want: "2.57 m"},
		{code: `#.00 "x"`, raw: "0.5", want: ".50 x"},
		{code: `[Red]"A"000`, raw: "9", want: "A009"},
		{code: `[$-409]"A"000`, raw: "9", want: "A009"},
		{code: `00`, raw: "1.2345678901234567E+19", want: "12345678901234600000"},
		{code: `????0`, raw: "12"},
		{code: "0", raw: "123"},
		{code: "0.00", raw: "1.5"},
		{code: "#,##0.00", raw: "1234.5"},
		{code: `"€"#,##0.00`, raw: "1234.5"},
		{code: `[$€-407] #,##0.00`, raw: "1234.5"},
		{code: `#,##0.00_);(#,##0.00)`, raw: "-5"},
		{code: `#,##0.00_);[Red](#,##0.00)`, raw: "5"},
		{code: "0%", raw: "0.5"},
		{code: "@", raw: "5"},
		{code: `00.0%`, raw: "0.5", odd: "%"},
		{code: `[>=100]"big"000;000`, raw: "5", odd: "[>=100]"},
		{code: `000,`, raw: "5000", odd: ","},
		{code: `# ?/? "in"`, raw: "1.5", odd: "/"},
		{code: `00.00E+00`, raw: "5", odd: "E"},
		{code: `0 pcs`, raw: "5", odd: "p"},
		{code: `#,##0\-00`, raw: "12345", odd: ","},
	} {
		p := parsePattern(tc.code)
		got, changes, odd := "", false, ""
		if p != nil {
			got, changes, odd = p.render(tc.raw)
		}
		if odd != tc.odd || got != tc.want || changes != (tc.want != "" || tc.odd != "") {
			t.Errorf("%s on %s: %q (changes %v, odd %q), want %q (odd %q)", tc.code, tc.raw, got, changes, odd, tc.want, tc.odd)
		}
	}
}

// TestStyleOf: which formats show dates, times of day and elapsed time.
func TestStyleOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id   int
		code string
		want shownAs
	}{
		{id: 0, want: shownPlain}, {id: 2, want: shownPlain}, {id: 49, want: shownPlain}, {id: 5, want: shownPlain},
		{id: 14, want: shownDate}, {id: 17, want: shownDate}, {id: 22, want: shownDate},
		{id: 18, want: shownTime}, {id: 19, want: shownTime}, {id: 20, want: shownTime}, {id: 21, want: shownTime},
		{id: 45, want: shownTime}, {id: 46, want: shownElapsed}, {id: 47, want: shownTime},
		{id: 27, want: shownLocale}, {id: 31, want: shownLocale}, {id: 36, want: shownLocale},
		{id: 50, want: shownLocale}, {id: 58, want: shownLocale}, {id: 37, want: shownPlain}, {id: 59, want: shownPlain},
		{id: 164, code: "hh:mm", want: shownTime},
		{id: 164, code: "h:mm:ss AM/PM", want: shownTime},
		{id: 164, code: "[$-409]h:mm AM/PM;@", want: shownTime},
		{id: 164, code: "mm:ss.0", want: shownTime},
		{id: 164, code: "[h]:mm:ss", want: shownElapsed},
		{id: 164, code: "[mm]:ss", want: shownElapsed},
		{id: 164, code: "dd/mm/yyyy hh:mm", want: shownDate},
		{id: 164, code: "mmm", want: shownDate},
		{id: 164, code: `yyyy"年"m"月"d"日"`, want: shownDate},
		{id: 164, code: `h"時"mm"分"`, want: shownTime},
		{id: 164, code: "[Red]#,##0.00", want: shownPlain},
		{id: 164, code: `"pci"000`, want: shownPattern},
	} {
		if got := styleOf(tc.id, tc.code, tc.code != ""); got.shown != tc.want {
			t.Errorf("format %d %q: %d, want %d", tc.id, tc.code, got.shown, tc.want)
		}
	}
}

func TestSerialTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		serial        float64
		time, elapsed string
	}{
		{0.5729166666666666, "13:45:00", "13:45:00"},
		{0, "00:00:00", "0:00:00"},
		{1.75, "18:00:00", "42:00:00"},
		{45306.99999, "23:59:59", "1087367:59:59"},
		{0.999999999, "00:00:00", "24:00:00"},
	} {
		if got, _ := serialTime(tc.serial); got != tc.time {
			t.Errorf("serialTime(%v) = %q, want %q", tc.serial, got, tc.time)
		}
		if got, _ := serialElapsed(tc.serial); got != tc.elapsed {
			t.Errorf("serialElapsed(%v) = %q, want %q", tc.serial, got, tc.elapsed)
		}
	}
}

// FuzzNumberPattern feeds arbitrary format codes and values to the number
// format classifier, parser and renderer: nothing may panic, and a section
// that changes nothing renders nothing.
func FuzzNumberPattern(f *testing.F) {
	for _, s := range []string{`000000000000`, `"pci"000`, `0000\-0000;[Red]"x"#,##0.00`, `[>=100]"big"000;000`, `#.00 "x"`, `"ID-"General`, `[$€-407] 0_);(0)`, `\`, `"`, `[`} {
		f.Add(s, "123")
	}
	f.Add("00", "-1.5E+300")
	f.Fuzz(func(t *testing.T, code, raw string) {
		styleOf(164, code, true)
		timeFormat(code)
		p := parsePattern(code)
		if p == nil {
			return
		}
		text, changes, odd := p.render(raw)
		if !changes && (text != "" || odd != "") {
			t.Fatalf("%q on %q: %q, odd %q, without a change", code, raw, text, odd)
		}
	})
}

// TestNumberPatternLongCode reads format codes of 4,096 bytes, which a
// damaged or hostile styles part can hold: in time and memory linear in
// the code, counted in allocations (no clock). Lowering the rest of the
// code at each byte to look for "General" made it quadratic: a code of
// 10,000 bytes that are no character took 5 s, one of 100,000 bytes 9 min.
func TestNumberPatternLongCode(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
	}{
		{"bytes that are no character", "\xba"},
		{"letters", "Λ"},
		{"text and placeholders", `"pci"0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := strings.Repeat(tc.unit, 4096/len(tc.unit))
			if n := testing.AllocsPerRun(3, func() { parsePattern(code) }); n > 200 {
				t.Errorf("%.0f allocations for a code of %d bytes, want a few dozen", n, len(code))
			}
		})
	}
}
