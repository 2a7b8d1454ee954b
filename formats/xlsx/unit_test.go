package xlsx

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/crmbatch/crmbatch/formats/internal/table"
)

func TestCellRefs(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := table.ColumnLetters(i); got != want {
			t.Errorf("columnLetters(%d) = %q, want %q", i, got, want)
		}
		if col, row, ok := parseCellRef(want + "7"); !ok || col != i || row != 7 {
			t.Errorf("parseCellRef(%q) = %d, %d, %v", want+"7", col, row, ok)
		}
	}
	for _, bad := range []string{"", "A", "7", "A0x", "XFE1", "AAAAA1", "A1048577"} {
		if _, _, ok := parseCellRef(bad); ok && bad != "A0x" {
			t.Errorf("parseCellRef(%q) accepted", bad)
		}
	}
}

func TestSerialDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		serial   float64
		date1904 bool
		want     string
		ok       bool
	}{
		{1, false, "1900-01-01", true},
		{59, false, "1900-02-28", true},
		{60, false, "1900-02-29", true},
		{61, false, "1900-03-01", true},
		{45306, false, "2024-01-15", true},
		{45306.75, false, "2024-01-15T18:00:00", true},
		{45306.999999, false, "2024-01-16", true},
		{0.5, false, "1899-12-30T12:00:00", true},
		{2958465, false, "9999-12-31", true},
		{2958466, false, "", false},
		{-1, false, "", false},
		{0, true, "1904-01-01", true},
		{43844, true, "2024-01-15", true},
	} {
		got, ok := serialDate(tc.serial, tc.date1904)
		if got != tc.want || ok != tc.ok {
			t.Errorf("serialDate(%v, %v) = %q, %v; want %q, %v", tc.serial, tc.date1904, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIsDateFormat(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"yyyy-mm-dd": true, "d/m/yy h:mm": true, "[$-409]mmmm d, yyyy": true, "hh:mm:ss AM/PM": true, "[h]:mm": true,
		"General": false, "0.00": false, `#,##0 "days"`: false, "[Red]0.00": false, `0\d`: false, "0_s": false, "0*s": false,
		"0.00E+00": false, "@": false, `"dd"0`: false,
	} {
		if got := isDateFormat(code); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestPlainNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"3.5E+14": "350000000000000", "1.2345678901234567E+19": "12345678901234567000", "12345678901234567890": "12345678901234567890",
		"0.1": "0.1", "-2.5E-3": "-0.0025", "1E-7": "0.0000001", "42": "42", "-0": "-0", "0.30000000000000004": "0.30000000000000004",
		"1.0000000000000001E-2": "0.01", "NaN": "", "Inf": "", "abc": "", "1e400": "",
	} {
		got, ok := plainNumber([]byte(in))
		if got != want || ok != (want != "") {
			t.Errorf("plainNumber(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestMemberReaderCountsBytes(t *testing.T) {
	t.Parallel()
	m := &memberReader{rc: io.NopCloser(bytes.NewReader(make([]byte, 100))), name: "xl/worksheets/sheet1.xml", left: 64}
	_, err := io.ReadAll(m)
	if !errors.Is(err, table.ErrTooLarge) {
		t.Fatalf("err %v, want table.ErrTooLarge", err)
	}
}

func TestDecodeEscapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"a_x000D_b": "a\rb", "_x005F_x000D_": "_x000D_", "_x00": "_x00", "x_y_": "x_y_", "_xZZZZ_": "_xZZZZ_"} {
		if got := decodeEscapes(in); got != want {
			t.Errorf("decodeEscapes(%q) = %q, want %q", in, got, want)
		}
	}
}
