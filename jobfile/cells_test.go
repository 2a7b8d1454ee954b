package jobfile

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats"
)

// writeSheet writes a one-sheet workbook whose sheetData is rows.
func writeSheet(t *testing.T, path, rows string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	for name, body := range map[string]string{
		"_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + rel + `officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="` + rel[:len(rel)-1] + `">` +
			`<sheets><sheet name="Devices" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + rel + `worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + rows + `</sheetData></worksheet>`,
	} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestUnusableCells: an error cell or a formula never calculated makes its
// row invalid when the job reads that column, and only then.
func TestUnusableCells(t *testing.T) {
	t.Parallel()
	is := func(ref, s string) string { return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>` }
	header := `<row r="1">` + is("A1", "esn") + is("B1", "action") + is("C1", "group_name") + is("D1", "note") + `</row>`
	rows := header +
		`<row r="2"><c r="A2" t="e"><f>VLOOKUP(1,X:Y,2,0)</f><v>#N/A</v></c>` + is("C2", "G") + `</row>` +
		`<row r="3">` + is("A3", "E-3") + is("C3", "G") + `<c r="D3" t="e"><v>#REF!</v></c></row>` +
		`<row r="4">` + is("A4", "E-4") + `<c r="B4"><f>IF(1,"register","x")</f><v></v></c>` + is("C4", "G") + `</row>` +
		`<row r="5">` + is("A5", "E-5") + `<c r="C5"><f>"G"</f></c></row>` +
		`<row r="6"><c r="D6" t="e"><v>#DIV/0!</v></c></row>`
	path := filepath.Join(t.TempDir(), "devices.xlsx")
	writeSheet(t, path, rows)

	type want struct{ col, msg string } // col "" = valid
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      map[int]want
	}{
		{name: "columns from the file", want: map[int]want{
			2: {"esn", "cell A2 shows the error #N/A: correct the formula"},
			3: {},
			4: {"action", "cell B4 has a formula whose result was never calculated (the program that wrote the file does not calculate): open and save the file in Excel (or LibreOffice) so it calculates"},
			5: {"group_name", "cell C5 has a formula whose result was never calculated"},
			6: {"esn", "a value is required"},
		}},
		{name: "a column set by a flag is not read", overrides: map[string]string{"group_name": "OPERATOR1"}, want: map[int]want{
			2: {"esn", "cell A2 shows the error #N/A"},
			3: {},
			4: {"action", "never calculated"},
			5: {},
			6: {"esn", "a value is required"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j, err := Open(path, "devices", formats.Options{}, tc.overrides, 0)
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			if err := j.Scan(0, func(r *Row) error {
				seen++
				w, ok := tc.want[r.Rec.Row]
				switch {
				case !ok:
					t.Errorf("row %d not expected", r.Rec.Row)
				case w.col == "" && r.Err != nil:
					t.Errorf("row %d: invalid (%v), want valid", r.Rec.Row, r.Err)
				case w.col != "" && r.Err == nil:
					t.Errorf("row %d: valid, want invalid in %s", r.Rec.Row, w.col)
				case w.col != "" && (r.Err.Column != w.col || !strings.Contains(r.Err.Msg, w.msg)):
					t.Errorf("row %d: %v, want column %s: %s", r.Rec.Row, r.Err, w.col, w.msg)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if seen != len(tc.want) {
				t.Errorf("%d rows, want %d", seen, len(tc.want))
			}
		})
	}
}
