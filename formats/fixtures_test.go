package formats

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/crmbatch/crmbatch/formats/internal/sniff"
	"github.com/xuri/excelize/v2"
)

// Run `go test ./formats -run TestFixtures -update` to rewrite testdata/.
var update = flag.Bool("update", false, "rewrite the files in testdata/")

// csvFixtures are the CSV corpus, byte for byte.
var csvFixtures = map[string]string{
	"bom.csv":              "\ufeffesn,action\r\n1001,register\r\n",
	"semicolon.csv":        "number;billing_system_customer_identifier\n12,5;C1\n13;C2\n",
	"tab.tsv":              "esn\tgroup_name\n\"1001\"\tSales, Cyprus\n1002\tOps\n",
	"crlf.csv":             "esn,action\r\n1001,register\r\n1002,unregister\r\n",
	"quoted-newlines.csv":  "name,note\n\"Ann\",\"line one\nline two\"\n\n\"Bob\",\"a \"\"quoted\"\"\r\nword\"\nCy,x\n",
	"cp1252.csv":           "name,city\nJos\xe9,Limassol\nZo\xeb,\x80uro\n",
	"mixed-encoding.csv":   "name,city\nJosé,Limassol\nZo\xeb,Paphos\n",
	"empty.csv":            "",
	"blank.csv":            "\n\r\n\n",
	"header-only.csv":      "esn,action,group_name\n",
	"duplicate-header.csv": "esn,Action, ACTION \n1,a,b\n",
	"extra-columns.csv":    "esn,action\n1,register\n2,register,,  \n3,register,oops\n",
	"missing-column.csv":   "action\nregister\n",
	"blank-lines.csv":      "esn,action\n\n1001,register\n,\n  ,  \n1002,unregister\n",
	"bad-quote.csv":        "esn,action\n1001,register\n1002,\"unreg\"ister\n",
	"unnamed-column.csv":   "esn,,action\n1,,register\n2,x,register\n",
	"utf16.txt":            "\xff\xfee\x00s\x00n\x00\t\x00c\x00i\x00t\x00y\x00\n\x001\x00\t\x00\xe9\x00\n\x00",
	"neutralised.csv":      "name,phone\n'=cmd,'+35799123456\n'abc,''=x\n",
	"trailing-header.csv":  " esn , Action ,,\n1,a,,\n",
	"utf16-nobom.txt":      utf16le("\"esn\"\t\"city\"\n\"1\"\t\"Λεμεσός\"\n"),
	"utf16be-nobom.txt":    utf16be("esn,city\n1,x\n"),
	"nul.csv":              "esn,city\n1,\x00\x01\x02\x03\x00\x00\x00\n",
}

// fxSheet is one worksheet of a hand-built workbook.
type fxSheet struct {
	name, state string
	data        string // the inner XML of <sheetData>, or the whole part when raw
	raw         bool
}

// fxBook describes a workbook built byte by byte, to control every cell type.
type fxBook struct {
	sheets   []fxSheet
	sst      []string // inner XML of each <si>
	numFmts  map[int]string
	xfs      []int // numFmtId of each cellXfs entry
	date1904 bool
	fullCalc bool // calcPr fullCalcOnLoad, as XlsxWriter and openpyxl write
}

func (b fxBook) bytes() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			panic(err)
		}
		w.Write([]byte(body))
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+rel+`officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	var wb, rels strings.Builder
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><workbook ` + ns + `>`)
	if b.date1904 {
		wb.WriteString(`<workbookPr date1904="1"/>`)
	}
	wb.WriteString(`<sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, s := range b.sheets {
		state := ""
		if s.state != "" {
			state = ` state="` + s.state + `"`
		}
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, s.name, i+1, state, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, i+1, rel, i+1)
		body := s.data
		if !s.raw {
			body = `<?xml version="1.0" encoding="UTF-8"?><worksheet ` + ns + `><sheetData>` + s.data + `</sheetData></worksheet>`
		}
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), body)
	}
	wb.WriteString(`</sheets>`)
	if b.fullCalc {
		wb.WriteString(`<calcPr calcId="124519" fullCalcOnLoad="1"/>`)
	}
	wb.WriteString(`</workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId100" Type="%sstyles" Target="styles.xml"/>`, rel)
	if b.sst != nil {
		fmt.Fprintf(&rels, `<Relationship Id="rId101" Type="%ssharedStrings" Target="/xl/sharedStrings.xml"/>`, rel)
		var sst strings.Builder
		fmt.Fprintf(&sst, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(b.sst), len(b.sst))
		for _, si := range b.sst {
			sst.WriteString("<si>" + si + "</si>")
		}
		sst.WriteString(`</sst>`)
		put("xl/sharedStrings.xml", sst.String())
	}
	rels.WriteString(`</Relationships>`)
	put("xl/workbook.xml", wb.String())
	put("xl/_rels/workbook.xml.rels", rels.String())
	var st strings.Builder
	st.WriteString(`<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	if len(b.numFmts) > 0 {
		st.WriteString(`<numFmts>`)
		for id := 164; id < 200; id++ {
			if code, ok := b.numFmts[id]; ok {
				fmt.Fprintf(&st, `<numFmt numFmtId="%d" formatCode="%s"/>`, id, xmlEscape(code))
			}
		}
		st.WriteString(`</numFmts>`)
	}
	st.WriteString(`<cellXfs><xf numFmtId="0"/>`)
	for _, id := range b.xfs {
		fmt.Fprintf(&st, `<xf numFmtId="%d" applyNumberFormat="1"/>`, id)
	}
	st.WriteString(`</cellXfs></styleSheet>`)
	put("xl/styles.xml", st.String())
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	if err := xmlEscapeText(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

// Shortcuts for cells of the hand-built sheets.
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

// dateXfs are the styles of the date fixtures: 1 built-in 14 (date), 2
// date-time, 3 long date in a locale, 4 a number with a quoted "days", 5 an
// elapsed-time format, 6 a format with a colour and "#".
var dateXfs = []int{14, 164, 165, 166, 167, 168}
var dateFmts = map[int]string{164: "dd/mm/yyyy hh:mm", 165: "[$-409]mmmm d, yyyy", 166: `#,##0 "days"`, 167: "[h]:mm:ss", 168: "[Red]#,##0.00"}

func dateSheet() string {
	return row(1, str("A1", "label"), str("B1", "value")) +
		row(2, str("A2", "day"), styled("B2", 1, "45306")) +
		row(3, str("A3", "datetime"), styled("B3", 2, "45306.5")) +
		row(4, str("A4", "locale"), styled("B4", 3, "1")) +
		row(5, str("A5", "lotus"), styled("B5", 1, "60")) +
		row(6, str("A6", "days"), styled("B6", 4, "45306")) +
		row(7, str("A7", "elapsed"), styled("B7", 5, "1.75")) +
		row(8, str("A8", "red"), styled("B8", 6, "12.5")) +
		row(9, str("A9", "seconds"), styled("B9", 2, "45306.000011574")) +
		row(10, str("A10", "iso"), `<c r="B10" t="d"><v>2024-01-15T08:30:00Z</v></c>`)
}

// xlsxFixtures builds the XLSX corpus.
func xlsxFixtures(t testing.TB) map[string][]byte {
	ids := fxBook{
		sst: []string{"<t>esn</t>", "<t>code</t>", "<t>007</t>", `<r><t>Li</t></r><r><rPr><b/></rPr><t>massol</t></r><rPh sb="0" eb="1"><t>リ</t></rPh>`, "<t>a_x000D_b</t>"},
		sheets: []fxSheet{{name: "Devices", data: row(1, sst("A1", 0), sst("B1", 1), str("C1", "amount"), str("D1", "flag")) +
			row(2, num("A2", "1.2345678901234567E+19"), sst("B2", 2), num("C2", "0.1"), `<c r="D2" t="b"><v>1</v></c>`) +
			row(3, num("A3", "3.5E+14"), str("B3", "00123"), num("C3", "-2.5E-3"), `<c r="D3" t="b"><v>0</v></c>`) +
			row(4, num("A4", "12345678901234567890"), sst("B4", 3), num("C4", "1E+21"), "") +
			row(5, str("A5", "  spaced  "), sst("B5", 4), `<c r="C5" s="0"/>`, str("D5", "=1+1"))}},
	}
	sparse := fxBook{sheets: []fxSheet{{name: "Sheet1", data: `<row r="2"><c r="B2" t="inlineStr"><is><t>esn</t></is></c><c r="C2" t="inlineStr"><is><t>action</t></is></c></row>` +
		row(3, str("B3", "1")) + `<row r="4"/>` + row(5, `<c r="A5" s="0"/>`, str("C5", " ")) +
		row(7, str("C7", "add"), `<c r="Z7" s="0"/>`) + row(9, str("B9", "9"), str("C9", "remove"))}}}
	book := func(data string) []byte { return fxBook{sheets: []fxSheet{{name: "Sheet1", data: data}}}.bytes() }
	hdr := row(1, str("A1", "esn"), str("B1", "amount"))
	out := map[string][]byte{
		"ids.xlsx":       ids.bytes(),
		"dates1900.xlsx": fxBook{numFmts: dateFmts, xfs: dateXfs, sheets: []fxSheet{{name: "Dates", data: dateSheet()}}}.bytes(),
		"dates1904.xlsx": fxBook{date1904: true, numFmts: dateFmts, xfs: dateXfs, sheets: []fxSheet{{name: "Dates", data: row(1, str("A1", "label"), str("B1", "value")) +
			row(2, str("A2", "day"), styled("B2", 1, "43844")) + row(3, str("A3", "zero"), styled("B3", 2, "0.25"))}}}.bytes(),
		"formulas.xlsx": book(hdr +
			row(2, `<c r="A2" t="str"><f>"A"&amp;"1"</f><v>A1</v></c>`, `<c r="B2"><f>1/3</f><v>0.33333333333333331</v></c>`) +
			row(3, `<c r="A3" t="b"><f>TRUE()</f><v>1</v></c>`, `<c r="B3"><f t="shared" ref="B3:B4" si="0">B2*3</f><v>1</v></c>`)),
		"error-cell.xlsx": book(hdr + row(2, str("A2", "1"), num("B2", "5")) + row(3, str("A3", "2"), `<c r="B3" t="e"><f>VLOOKUP(A3,X:Y,2,0)</f><v>#N/A</v></c>`)),
		"uncached.xlsx":   book(hdr + row(2, str("A2", "1"), `<c r="B2"><f>SUM(1,2)</f></c>`)),
		"empty-cached.xlsx": book(row(1, str("A1", "esn"), str("B1", "amount"), str("C1", "note")) +
			row(2, `<c r="A2"><f>"E"&amp;1</f><v></v></c>`, `<c r="B2"><f>1+1</f><v>2</v></c>`, `<c r="C2" t="str"><f>""</f><v></v></c>`) +
			row(3, `<c r="A3"><f>SUM(1,2)</f><v/></c>`)),
		"fullcalc.xlsx": fxBook{fullCalc: true, sheets: []fxSheet{{name: "Sheet1", data: hdr +
			row(2, `<c r="A2"><f>"E"&amp;1</f><v>0</v></c>`, num("B2", "5")) +
			row(3, str("A3", "E-3"), `<c r="B3" t="str"><f>"x"</f><v>x</v></c>`)}}}.bytes(),
		"error-header.xlsx": book(row(1, str("A1", "esn"), `<c r="B1" t="e"><f>1/0</f><v>#DIV/0!</v></c>`) + row(2, str("A2", "1"))),
		"sparse.xlsx":       sparse.bytes(),
		"wide.xlsx":         book(hdr + row(2, str("A2", "1"), str("B2", "2"), `<c r="C2" s="0"/>`) + row(3, str("A3", "1"), str("D3", "extra"))),
		"duplicate.xlsx":    book(row(1, str("A1", "ESN"), str("B1", "esn "))),
		"empty-sheet.xlsx":  book(""),
		"sheets.xlsx": fxBook{sheets: []fxSheet{
			{name: "Notes", state: "hidden", data: row(1, str("A1", "note"))},
			{name: "Devices", data: row(1, str("A1", "esn")) + row(2, str("A2", "d1"))},
			{name: "Charges", data: row(1, str("A1", "number")) + row(2, str("A2", "c1"))},
		}}.bytes(),
		"numfmt.xlsx": fxBook{xfs: []int{164, 165, 166, 18, 21, 46, 27, 31, 57, 167, 168},
			numFmts: map[int]string{164: "000000000000", 165: `"pci"000`, 166: "hh:mm", 167: "00.0%", 168: "#,##0.00"},
			sheets: []fxSheet{{name: "Formats", data: row(1, str("A1", "label"), str("B1", "value")) +
				row(2, str("A2", "padded"), styled("B2", 1, "123")) +
				row(3, str("A3", "literal"), styled("B3", 2, "4")) +
				row(4, str("A4", "hh:mm"), styled("B4", 3, "0.5729166666666666")) +
				row(5, str("A5", "builtin 18"), styled("B5", 4, "0.75")) +
				row(6, str("A6", "builtin 21"), styled("B6", 5, "45306.5")) +
				row(7, str("A7", "builtin 46"), styled("B7", 6, "1.75")) +
				row(8, str("A8", "builtin 27"), styled("B8", 7, "45306")) +
				row(9, str("A9", "builtin 31"), styled("B9", 8, "45306.5")) +
				row(10, str("A10", "builtin 57"), styled("B10", 9, "0.25")) +
				row(11, str("A11", "percent padded"), styled("B11", 10, "0.5")) +
				row(12, str("A12", "grouped"), styled("B12", 11, "1234.5"))}}}.bytes(),
		"sheet-spaces.xlsx": fxBook{sheets: []fxSheet{
			{name: "Charges ", data: row(1, str("A1", "number")) + row(2, str("A2", "c1"))},
			{name: "Devices", data: row(1, str("A1", "esn")) + row(2, str("A2", "d1"))},
			{name: "Devices ", data: row(1, str("A1", "esn")) + row(2, str("A2", "d2"))},
		}}.bytes(),
		"truncated-sheet.xlsx": fxBook{sheets: []fxSheet{{name: "Sheet1", raw: true, data: `<?xml version="1.0"?><worksheet><sheetData>` + hdr + row(2, str("A2", "1"))}}}.bytes(),
		"cut-tag.xlsx":         fxBook{sheets: []fxSheet{{name: "Sheet1", raw: true, data: `<?xml version="1.0"?><worksheet><sheetData>` + hdr + `<row r="2"><c r="A2" t="inl`}}}.bytes(),
		"bomb.xlsx":            book(hdr + row(2, str("A2", "1"), str("B2", strings.Repeat(" ", 2<<20)))),
		"encrypted.xlsx":       append(append([]byte(nil), []byte(sniff.OLEMagic)...), make([]byte, 504)...),
		"not-zip.xlsx":         []byte("esn,action\n1,register\n"),
		"excelize.xlsx":        excelizeFixture(t),
	}
	full := out["ids.xlsx"]
	out["truncated.xlsx"] = full[:len(full)/2]
	return out
}

// excelizeFixture is a workbook written by excelize's ordinary API, as other
// tools write them.
func excelizeFixture(t testing.TB) []byte {
	f := excelize.NewFile()
	defer f.Close()
	s := f.GetSheetName(0)
	day, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for _, c := range []struct {
		ref string
		v   any
	}{{"A1", "esn"}, {"B1", "amount"}, {"C1", "when"}, {"D1", "ok"},
		{"A2", "000123"}, {"B2", 1234567.25}, {"C2", time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)}, {"D2", true},
		{"A3", 350000000000000}, {"B3", -7}, {"C3", 45306.75}, {"D3", false}} {
		if err := f.SetCellValue(s, c.ref, c.v); err != nil {
			t.Fatal(err)
		}
	}
	f.SetCellStyle(s, "C2", "C3", day)
	f.SetCellStyle(s, "C3", "C3", 0)
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFixtures checks the committed CSV corpus, and rewrites the whole corpus with -update.
func TestFixtures(t *testing.T) {
	if *update {
		for name, body := range csvFixtures {
			if err := os.WriteFile(filepath.Join("testdata", name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for name, body := range xlsxFixtures(t) {
			if err := os.WriteFile(filepath.Join("testdata", name), body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range csvFixtures {
		got, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if string(got) != want {
			t.Errorf("testdata/%s differs from csvFixtures (run with -update)", name)
		}
	}
	for name := range xlsxFixtures(t) {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("%v (run with -update)", err)
		}
	}
}

// utf16le and utf16be encode s as UTF-16 without a byte order mark.
func utf16le(s string) string { return utf16Bytes(s, false) }
func utf16be(s string) string { return utf16Bytes(s, true) }

func utf16Bytes(s string, big bool) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if big {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

func xmlEscapeText(b *bytes.Buffer, s string) error { return xml.EscapeText(b, []byte(s)) }
