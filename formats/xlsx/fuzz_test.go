package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmbatch/crmbatch/formats/internal/table"
)

// drain reads r to the end and checks the invariants every reader keeps.
func drain(t *testing.T, r *Reader) {
	t.Helper()
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if len(rec.Fields) != len(r.Header()) || len(rec.Kinds) != len(rec.Fields) {
			t.Fatalf("row %d: %d fields, %d kinds, header of %d", rec.Row, len(rec.Fields), len(rec.Kinds), len(r.Header()))
		}
		if rec.Row < 2 {
			t.Fatalf("record row %d", rec.Row)
		}
	}
}

// checkFuzzErr requires an *InputError that wraps one of the sentinels.
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var ie *table.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %q (%T) is not an *InputError", err, err)
	}
	for _, s := range []error{table.ErrEmptyFile, table.ErrNoHeader, table.ErrDuplicateHeader, table.ErrUnnamedColumn, table.ErrEncoding, table.ErrMalformed,
		table.ErrTruncated, table.ErrTooLarge, table.ErrRowTooWide, table.ErrSheetNotFound, table.ErrEncrypted, table.ErrCellError, table.ErrUnsupportedFormat} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps no sentinel", err)
}

// seedFiles seeds f with the files of formats/testdata that match patterns.
func seedFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		names, _ := filepath.Glob(filepath.Join("..", "testdata", p))
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

func FuzzXLSXReader(f *testing.F) {
	seedFiles(f, "*.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newReader(bytes.NewReader(data), int64(len(data)), "fuzz.xlsx", table.Options{MaxXLSXBytes: 1 << 20}, nil)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		drain(t, r)
	})
}

// FuzzXLSXSheet fuzzes the sheet, shared strings and styles XML inside a valid
// zip, where FuzzXLSXReader's mutations seldom reach.
func FuzzXLSXSheet(f *testing.F) {
	f.Add(`<sheetData>`+row(1, str("A1", "esn"), sst("B1", 0))+row(2, num("A2", "1E+3"), styled("B2", 1, "45306"))+`</sheetData>`,
		`<si><t>a_x000D_</t></si>`, `<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>`)
	f.Add(row(1, str("A1", "label"), str("B1", "value"))+row(2, str("A2", "day"), styled("B2", 1, "45306"))+
		row(3, str("A3", "elapsed"), styled("B3", 2, "1.75"))+row(4, str("A4", "iso"), `<c r="B4" t="d"><v>2024-01-15T08:30:00Z</v></c>`),
		`<si><r><t>x</t></r><rPh><t>y</t></rPh></si>`,
		`<numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts><cellXfs><xf/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs>`)
	f.Fuzz(func(t *testing.T, sheet, strs, styles string) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		put := func(name, body string) {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			io.WriteString(w, body)
		}
		const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
		put("xl/workbook.xml", `<workbook xmlns:r="r"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>`)
		put("xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId1" Type="`+rel+`worksheet" Target="s.xml"/>`+
			`<Relationship Id="rId2" Type="`+rel+`sharedStrings" Target="ss.xml"/><Relationship Id="rId3" Type="`+rel+`styles" Target="st.xml"/></Relationships>`)
		put("xl/s.xml", `<worksheet>`+sheet+`</worksheet>`)
		put("xl/ss.xml", `<sst>`+strs+`</sst>`)
		put("xl/st.xml", `<styleSheet>`+styles+`</styleSheet>`)
		zw.Close()
		data := buf.Bytes()
		r, err := newReader(bytes.NewReader(data), int64(len(data)), "fuzz.xlsx", table.Options{MaxColumns: 64}, nil)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		drain(t, r)
	})
}

// Shortcuts for cells of the fuzzers' seed sheets.
func row(r int, cells ...string) string {
	return fmt.Sprintf(`<row r="%d">%s</row>`, r, strings.Join(cells, ""))
}
func str(ref, s string) string {
	return fmt.Sprintf(`<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, s)
}
func sst(ref string, i int) string { return fmt.Sprintf(`<c r="%s" t="s"><v>%d</v></c>`, ref, i) }
func num(ref, v string) string     { return fmt.Sprintf(`<c r="%s"><v>%s</v></c>`, ref, v) }
func styled(ref string, s int, v string) string {
	return fmt.Sprintf(`<c r="%s" s="%d"><v>%s</v></c>`, ref, s, v)
}
