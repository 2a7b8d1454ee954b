package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/formats/internal/sniff"
	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/crmbatch/crmbatch/formats/xlsx/internal/xmlscan"
)

// Excel's sheet limits: a reference past them is no cell of a sheet.
const (
	MaxSheetRows    = 1 << 20
	MaxSheetColumns = 1 << 14
)

// Reader streams the records of one worksheet. After Next returns an error
// other than io.EOF it is spent: every later call returns the same error.
type Reader struct {
	name   string
	sheet  string
	opts   table.Options
	closer io.Closer
	parts  map[string]*zip.File
	// namesOnly stops open once the sheet names are known (SheetNames).
	namesOnly bool

	member   io.ReadCloser
	sc       *xmlscan.Scanner
	sst      *stringTable
	styles   []cellStyle // by cellXfs index
	date1904 bool
	// fullCalc: the workbook asks to be calculated when opened
	// (fullCalcOnLoad), as files written by XlsxWriter and openpyxl do; their
	// formulas hold no result, or a placeholder 0.
	fullCalc bool
	header   []string
	// headerRow is the header's row number; sheets the workbook's worksheets.
	headerRow int
	sheets    []string

	inData bool // inside <sheetData>
	done   bool // </sheetData> seen
	row    int  // number of the last row read
	err    error

	vals     []string
	kinds    []table.CellKind
	problems []table.CellProblem // the row's Unusable cells
	// reason and hint say why cellValue returned Unusable.
	reason, hint string
	spans        []span // where in rowText a value is, when it is there
	rowText      []byte // the text of the row's values that are not shared strings or constants
	buf          []byte // the raw value of the cell being decoded
	dates        map[string]string
}

// span is a value's place in xlsxReader.rowText; the zero span means the
// value is not there.
type span struct{ start, end int32 }

// maxDateCache bounds xlsxReader.dates, the rendered date serials.
const maxDateCache = 4096

// cellType is a cell's t attribute.
type cellType uint8

const (
	typNumber cellType = iota // "n" or absent
	typShared                 // "s"
	typInline                 // "inlineStr"
	typString                 // "str", a formula's text result
	typBool                   // "b"
	typError                  // "e"
	typDate                   // "d"
	typUnknown
)

// cell is the state of the <c> element being decoded.
type cell struct {
	col        int
	typ        cellType
	typName    string // the t attribute when typ is typUnknown
	style      int
	hasV, hasF bool
	inV, inIS  bool
	inT, inRPh bool
}

// Open opens the workbook at path and reads its header from the sheet
// opts.Sheet names (the first visible worksheet when it names none). Errors
// are *table.InputError naming path.
func Open(path string, opts table.Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	x, err := newReader(f, st.Size(), path, opts, f)
	if err != nil {
		return nil, err // x.Close closed f
	}
	return x, nil
}

// OpenAt reads the workbook of size bytes in ra as Open does; errors name
// name, and Close does not close ra.
func OpenAt(ra io.ReaderAt, size int64, name string, opts table.Options) (*Reader, error) {
	return newReader(ra, size, name, opts, nil)
}

// newReader reads the workbook in ra; closer, if not nil, is closed by Close.
func newReader(ra io.ReaderAt, size int64, name string, opts table.Options, closer io.Closer) (*Reader, error) {
	x := &Reader{name: name, opts: opts.WithDefaults(), closer: closer}
	if err := x.open(ra, size); err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

// open reads the workbook in ra up to the chosen sheet's header (or, for
// SheetNames, up to the sheet names).
func (x *Reader) open(ra io.ReaderAt, size int64) error {
	if err := x.openZip(ra, size); err != nil {
		return err
	}
	wb, rels, wbDir, err := x.readWorkbook()
	if err != nil {
		return err
	}
	sheetPath, err := x.chooseSheet(wb, rels, wbDir)
	if err != nil || x.namesOnly {
		return err
	}
	return x.openSheet(rels, wbDir, sheetPath)
}

// openZip opens the zip in ra, decrypting a password-protected workbook
// first, and indexes its members by lower-case name.
func (x *Reader) openZip(ra io.ReaderAt, size int64) error {
	if size == 0 {
		return x.fail(0, "", table.ErrEmptyFile)
	}
	magic := make([]byte, len(sniff.OLEMagic))
	if n, _ := ra.ReadAt(magic, 0); n == len(magic) && string(magic) == sniff.OLEMagic {
		plain, err := x.decryptWorkbook(ra, size)
		if err != nil {
			return err
		}
		ra, size = bytes.NewReader(plain), int64(len(plain))
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return x.notZip(ra, err)
	}
	x.parts = make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		x.parts[strings.ToLower(strings.TrimPrefix(zf.Name, "/"))] = zf
	}
	return nil
}

// notZip says what the file in ra is, since archive/zip cannot read it
// (err): another kind of file, UTF-16 or other text, or a damaged zip.
func (x *Reader) notZip(ra io.ReaderAt, err error) error {
	head := make([]byte, 512)
	n, _ := ra.ReadAt(head, 0)
	if k := sniff.Binary(head[:n]); k.What != "" && !bytes.HasPrefix(head, []byte("PK")) {
		return x.fail(0, "", table.BecauseFix(table.ErrUnsupportedFormat, k.Hint, "this is %s, not an .xlsx workbook", k.What))
	}
	if sniff.UTF16Order(head[:n]) != "" || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return x.fail(0, "", table.BecauseFix(table.ErrUnsupportedFormat, "rename it to .csv, or save it as \"CSV UTF-8\"", "this is UTF-16 text (CSV or tab-separated?), not an .xlsx workbook"))
	}
	if sniff.Text(head[:n]) {
		return x.fail(0, "", table.BecauseFix(table.ErrTruncated, "if it is CSV, rename it to .csv", "not a readable .xlsx (zip) file: %v; it holds text (CSV?)", err))
	}
	return x.fail(0, "", table.BecauseFix(table.ErrTruncated, "the file may be incomplete; save or download it again", "not a readable .xlsx (zip) file: %v", err))
}

// readWorkbook reads the workbook part (where the package's relationships
// say it is), its settings and its relationships; wbDir is its folder.
func (x *Reader) readWorkbook() (wb *workbookXML, rels *relsXML, wbDir string, err error) {
	wbPath := "xl/workbook.xml"
	var root relsXML
	if ok, err := x.readPart("_rels/.rels", &root); err != nil {
		return nil, nil, "", err
	} else if ok {
		if t := root.target("", "/officeDocument"); t != "" {
			wbPath = t
		}
	}
	wb = &workbookXML{}
	if ok, err := x.readPart(wbPath, wb); err != nil {
		return nil, nil, "", err
	} else if !ok {
		if k := x.archiveKind(); k.What != "" {
			return nil, nil, "", x.fail(0, "", table.BecauseFix(table.ErrUnsupportedFormat, k.Hint, "this is %s, not an .xlsx workbook", k.What))
		}
		return nil, nil, "", x.fail(0, "", table.BecauseFix(table.ErrTruncated, "is this really an .xlsx workbook?", "no workbook part (%s) in the file", wbPath))
	}
	if wb.Pr != nil {
		x.date1904 = xmlTrue(wb.Pr.Date1904)
	}
	if wb.Calc != nil {
		x.fullCalc = xmlTrue(wb.Calc.FullCalcOnLoad)
	}
	wbDir = path.Dir(wbPath)
	rels = &relsXML{}
	if _, err := x.readPart(path.Join(wbDir, "_rels", path.Base(wbPath)+".rels"), rels); err != nil {
		return nil, nil, "", err
	}
	return wb, rels, wbDir, nil
}

// openSheet loads the styles and shared strings the workbook's
// relationships name, opens the sheet part and reads its header.
func (x *Reader) openSheet(rels *relsXML, wbDir, sheetPath string) error {
	if p := rels.target(wbDir, "/styles"); p != "" {
		if err := x.loadStyles(p); err != nil {
			return err
		}
	}
	x.sst = &stringTable{}
	if p := rels.target(wbDir, "/sharedStrings"); p != "" {
		if err := x.loadSharedStrings(p); err != nil {
			return err
		}
	}
	zf := x.parts[strings.ToLower(sheetPath)]
	if zf == nil {
		return x.fail(0, "", table.Because(table.ErrTruncated, "the sheet's part %s is missing", sheetPath))
	}
	var err error
	if x.member, err = x.openMember(zf); err != nil {
		return err
	}
	x.sc = xmlscan.New(x.member)
	x.sc.Limit = x.tokenLimit()
	return x.readHeader()
}

// archiveKind names the kind of a zip archive without a workbook from its
// members: a Word or PowerPoint document, an OpenDocument spreadsheet, or
// any other archive.
func (x *Reader) archiveKind() sniff.Kind {
	var names []byte
	for name := range x.parts {
		names = append(append(names, name...), ' ')
	}
	if zf := x.parts["mimetype"]; zf != nil {
		if rc, err := zf.Open(); err == nil {
			mime, _ := io.ReadAll(io.LimitReader(rc, 128))
			rc.Close()
			names = append(names, mime...)
		}
	}
	k := sniff.Zip(names)
	if strings.HasPrefix(k.What, "an XLSX") {
		return sniff.Kind{} // a workbook's parts, but not where they should be
	}
	return k
}

// tokenLimit bounds one XML token (tag, text, comment, directive) of the
// sheet and shared strings parts: a zip member of 1 GiB that is a single
// cell or a single DOCTYPE must fail at the limit, not be held in memory.
func (x *Reader) tokenLimit() int {
	return max(16<<20, 8*x.opts.MaxCellChars)
}

// rawCellLimit bounds the raw bytes of one cell or shared string, gathered
// from its runs. A raw value may be longer than the text it decodes to
// (a character takes up to 3 bytes of UTF-8, an _xHHHH_ escape 7), hence
// the margin: past it the cell is surely longer than MaxCellChars.
func (x *Reader) rawCellLimit() int {
	return 8 * x.opts.MaxCellChars
}

// chooseSheet finds the sheet named in the options, or the first visible
// worksheet, and returns its part name.
func (x *Reader) chooseSheet(wb *workbookXML, rels *relsXML, wbDir string) (string, error) {
	type sheet struct {
		name, part       string
		worksheet, shown bool
	}
	all := make([]sheet, 0, len(wb.Sheets))
	for _, s := range wb.Sheets {
		sh := sheet{name: s.Name, shown: s.State == "" || s.State == "visible"}
		if rel := rels.byID(s.rid()); rel != nil && strings.HasSuffix(rel.Type, "/worksheet") {
			sh.worksheet, sh.part = true, resolvePart(wbDir, rel.Target)
		}
		all = append(all, sh)
		if sh.worksheet {
			x.sheets = append(x.sheets, sh.name)
		}
	}
	if x.opts.Sheet != "" {
		names := make([]string, len(all))
		for i, s := range all {
			names[i] = s.name
		}
		i, err := matchSheet(x.opts.Sheet, names)
		if err != nil {
			return "", x.fail(0, "", err)
		}
		if !all[i].worksheet {
			return "", x.fail(0, "", table.Because(table.ErrSheetNotFound, "sheet %q is not a worksheet (a chart or dialog sheet?)", all[i].name))
		}
		x.sheet = all[i].name
		return all[i].part, nil
	}
	first := -1
	for i, s := range all {
		if !s.worksheet || !s.shown && first >= 0 {
			continue
		}
		if s.shown && x.chartOnly(s.part) {
			// A chart sheet saved as a worksheet (LibreOffice has no chart
			// sheets): Excel shows a chart, not a sheet of rows.
			continue
		}
		first = i
		if s.shown {
			break
		}
	}
	if first < 0 {
		return "", x.fail(0, "", table.Because(table.ErrSheetNotFound, "the workbook has no worksheet"))
	}
	x.sheet = all[first].name
	return all[first].part, nil
}

// chartOnly reports whether the worksheet part holds a drawing and no
// cell: a chart sheet in all but name, as LibreOffice saves one.
func (x *Reader) chartOnly(part string) bool {
	var rels relsXML
	if ok, err := x.readPart(path.Join(path.Dir(part), "_rels", path.Base(part)+".rels"), &rels); !ok || err != nil ||
		rels.target("", "/drawing") == "" {
		return false
	}
	zf := x.parts[strings.ToLower(part)]
	if zf == nil {
		return false
	}
	rc, err := x.openMember(zf)
	if err != nil {
		return false
	}
	defer rc.Close()
	sc := xmlscan.New(rc)
	sc.Limit = x.tokenLimit()
	for {
		tok, err := sc.Next()
		if err != nil {
			return false // the reading proper says what is wrong
		}
		switch {
		case tok == xmlscan.Start && string(sc.Name()) == "c":
			return false
		case tok == xmlscan.End && string(sc.Name()) == "sheetData":
			return true
		}
	}
}

// matchSheet finds the sheet asked for: the one of exactly that name, else
// the one whose name differs only in case (Excel keeps sheet names unique
// regardless of case), else the only one whose name is the same once both
// are trimmed of spaces ("Charges " for "Charges"). It fails with
// ErrSheetNotFound when none matches or the trimmed name fits several.
func matchSheet(want string, names []string) (int, error) {
	for i, n := range names {
		if n == want {
			return i, nil
		}
	}
	for i, n := range names {
		if strings.EqualFold(n, want) {
			return i, nil
		}
	}
	found := -1
	var fits []string
	trimmed := strings.TrimSpace(want)
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), trimmed) {
			found = i
			fits = append(fits, strconv.Quote(n))
		}
	}
	switch {
	case len(fits) > 1:
		return -1, table.BecauseFix(table.ErrSheetNotFound, "give the name exactly, spaces included", "sheet %q fits several sheets once spaces are trimmed: %s",
			want, strings.Join(fits, ", "))
	case found < 0:
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = strconv.Quote(n)
		}
		return -1, table.Because(table.ErrSheetNotFound, "sheet %q not found; the workbook has %s", want, strings.Join(quoted, ", "))
	}
	return found, nil
}

func (x *Reader) readHeader() error {
	for {
		_, err := x.readRow(x.opts.MaxColumns, nil)
		if err == io.EOF {
			return x.fail(0, "", table.Because(table.ErrNoHeader, "no header row: the sheet is empty"))
		}
		if err != nil {
			return err
		}
		if table.BlankRow(x.vals) {
			continue
		}
		header, err := table.BuildHeader(x.vals, x.opts.MaxColumns, x.opts.MaxCellChars, x.locate)
		if err != nil {
			return err
		}
		x.header, x.headerRow = header, x.row
		return nil
	}
}

// Header returns the header texts (trimmed) in column order; trailing
// blank header cells are dropped.
func (x *Reader) Header() []string { return x.header }

// HeaderAt says on which sheet and row the header was read.
func (x *Reader) HeaderAt() (string, int) { return x.sheet, x.headerRow }

// Sheets are the names of the workbook's worksheets, in order.
func (x *Reader) Sheets() []string { return x.sheets }

// Close releases the file.
func (x *Reader) Close() error {
	if x.member != nil {
		x.member.Close()
		x.member = nil
	}
	if x.closer != nil {
		err := x.closer.Close()
		x.closer = nil
		return err
	}
	return nil
}

// Next returns the next non-blank record, or io.EOF after </sheetData>.
func (x *Reader) Next() (table.Record, error) {
	if x.err != nil {
		return table.Record{}, x.err
	}
	for {
		if x.done {
			return table.Record{}, io.EOF
		}
		row, err := x.readRow(len(x.header), x.header)
		if err == io.EOF {
			return table.Record{}, io.EOF
		}
		if err != nil {
			x.err = err
			return table.Record{}, err
		}
		for len(x.vals) < len(x.header) {
			x.vals = append(x.vals, "")
			x.kinds = append(x.kinds, table.Empty)
		}
		if table.BlankRow(x.vals) && len(x.problems) == 0 {
			continue
		}
		if err := table.CheckRecord(x.header, x.vals, x.locate); err != nil {
			x.err = err
			return table.Record{}, err
		}
		if n := len(x.problems); table.AnyLongerThan(x.vals, x.opts.MaxCellChars) {
			x.problems = table.LongCells(x.problems, x.vals, row, x.opts.MaxCellChars)
			if n > 0 {
				slices.SortStableFunc(x.problems, func(a, b table.CellProblem) int { return a.Column - b.Column })
			}
		}
		rec := table.Record{Sheet: x.sheet, Row: row, Fields: x.vals, Kinds: x.kinds}
		if len(x.problems) > 0 {
			rec.Problems = x.problems
		}
		if !x.opts.ReuseRecord {
			rec.Fields, rec.Kinds = slices.Clone(rec.Fields), slices.Clone(rec.Kinds)
			rec.Problems = slices.Clone(rec.Problems)
		}
		return rec, nil
	}
}

// readRow decodes the next <row> into x.vals and x.kinds, indexed by column,
// and returns its number; io.EOF after </sheetData>. Cells at or beyond limit
// must be blank; header names the columns in messages (nil while reading the
// header itself).
func (x *Reader) readRow(limit int, header []string) (int, error) {
	x.vals, x.kinds, x.spans, x.rowText = x.vals[:0], x.kinds[:0], x.spans[:0], x.rowText[:0]
	x.problems = x.problems[:0]
	st := rowState{lastCol: -1}
	sc := x.sc
	for {
		tok, err := sc.Next()
		if err != nil {
			return 0, x.scanError(err, &st)
		}
		switch tok {
		case xmlscan.Start:
			if !x.inData {
				if err := x.enterData(); err != nil {
					return 0, err
				}
				continue
			}
			if err := x.startTag(&st); err != nil {
				return 0, err
			}
		case xmlscan.End:
			if !x.inData {
				continue
			}
			if row, end, err := x.endTag(&st, limit, header); end || err != nil {
				return row, err
			}
		case xmlscan.Text:
			if err := x.cellText(&st, header); err != nil {
				return 0, err
			}
		}
	}
}

// rowState is where readRow is in the row it reads.
type rowState struct {
	inRow, inCell bool
	row           int // the row's number
	lastCol       int // the column of the row's last cell, -1 before the first
	c             cell
}

// scanError is the error of a sheet whose XML stops being readable while
// readRow is at st: cut short, damaged, or a token over its limit.
func (x *Reader) scanError(err error, st *rowState) error {
	if err == io.EOF {
		return x.fail(0, "", table.BecauseFix(table.ErrTruncated, "the file may be incomplete; save or download it again",
			"the sheet ends after row %d, before its end (no </sheetData>)", x.row))
	}
	if st.inRow && errors.Is(err, table.ErrTooLarge) {
		return x.xmlError(err, st.row) // in the row being read
	}
	return x.xmlError(err, x.row)
}

// enterData notes a <sheetData> start tag: the rows begin. Other tags before
// it (the sheet's properties, its columns) are skipped.
func (x *Reader) enterData() error {
	if string(x.sc.Name()) != "sheetData" {
		return nil
	}
	if x.done {
		return x.malformed(0, "second <sheetData> in the sheet")
	}
	x.inData = true
	return nil
}

// startTag reads a start tag inside <sheetData>: a row, a cell, or the
// parts of a cell that hold its value.
func (x *Reader) startTag(st *rowState) error {
	c := &st.c
	switch string(x.sc.Name()) {
	case "row":
		if st.inRow {
			return x.malformed(x.row, "row inside a row")
		}
		st.inRow = true
		row, err := x.rowNumber()
		st.row = row
		return err
	case "c":
		if !st.inRow || st.inCell {
			return x.malformed(st.row, "cell outside a row")
		}
		st.inCell = true
		*c = cell{col: st.lastCol + 1}
		if err := x.cellAttrs(c, st.row); err != nil {
			return err
		}
		if c.col <= st.lastCol || c.col >= MaxSheetColumns {
			return x.malformed(st.row, "cell %s out of order", cellName(c.col, st.row))
		}
		st.lastCol = c.col
		x.buf = x.buf[:0]
	case "v":
		if st.inCell {
			c.inV, c.hasV = true, true
		}
	case "f":
		if st.inCell {
			c.hasF = true
		}
	case "is":
		if st.inCell {
			c.inIS, c.hasV = true, true
		}
	case "rPh":
		c.inRPh = c.inIS
	case "t":
		c.inT = c.inIS && !c.inRPh
	}
	return nil
}

// rowNumber is the number of the <row> just started: its r attribute, which
// must come after the last row's, or the next number when it has none.
func (x *Reader) rowNumber() (int, error) {
	row := x.row + 1
	for _, a := range x.sc.Attrs() {
		if string(a.Name) != "r" {
			continue
		}
		n, ok := parseInt(a.Value)
		if !ok || n < 1 || n > MaxSheetRows {
			return 0, x.malformed(x.row, "bad row number %q", a.Value)
		}
		if n <= x.row {
			return 0, x.malformed(n, "row %d comes after row %d", n, x.row)
		}
		row = n
		break
	}
	if row > MaxSheetRows {
		return 0, x.malformed(x.row, "more than %d rows", MaxSheetRows)
	}
	return row, nil
}

// endTag reads an end tag inside <sheetData>. end says the row is read
// (with its number) or the sheet is (io.EOF).
func (x *Reader) endTag(st *rowState, limit int, header []string) (row int, end bool, err error) {
	c := &st.c
	switch string(x.sc.Name()) {
	case "v":
		c.inV = false
	case "t":
		c.inT = false
	case "rPh":
		c.inRPh = false
	case "is":
		c.inIS = false
	case "c":
		if st.inCell {
			st.inCell = false
			if err := x.finishCell(st.row, c, limit, header); err != nil {
				return 0, true, err
			}
		}
	case "row":
		if !st.inRow || st.inCell {
			return 0, true, x.malformed(st.row, "unbalanced row")
		}
		x.row = st.row
		x.placeText()
		return st.row, true, nil
	case "sheetData":
		if st.inRow {
			return 0, true, x.malformed(st.row, "unclosed row")
		}
		x.inData, x.done = false, true
		return 0, true, io.EOF
	}
	return 0, false, nil
}

// cellText gathers the text of the value being read, up to the longest raw
// cell the options allow.
func (x *Reader) cellText(st *rowState, header []string) error {
	c := &st.c
	if !c.inV && !c.inT {
		return nil
	}
	x.buf = append(x.buf, x.sc.Text()...)
	if len(x.buf) > x.rawCellLimit() {
		col := table.ColumnLetters(c.col)
		if header != nil {
			col = table.ColumnName(header, c.col)
		}
		return x.fail(st.row, col, table.Because(table.ErrTooLarge, "cell longer than %d characters", x.opts.MaxCellChars))
	}
	return nil
}

// cellAttrs reads the attributes of a <c> start tag into c.
func (x *Reader) cellAttrs(c *cell, row int) error {
	for _, a := range x.sc.Attrs() {
		switch string(a.Name) {
		case "r":
			col, r, ok := parseCellRef(a.Value)
			if !ok || r != row {
				return x.malformed(row, "bad cell reference %q", a.Value)
			}
			c.col = col
		case "t":
			switch string(a.Value) {
			case "", "n":
				c.typ = typNumber
			case "s":
				c.typ = typShared
			case "inlineStr":
				c.typ = typInline
			case "str":
				c.typ = typString
			case "b":
				c.typ = typBool
			case "e":
				c.typ = typError
			case "d":
				c.typ = typDate
			default:
				c.typ, c.typName = typUnknown, string(a.Value)
			}
		case "s":
			// As strconv.Atoi: a bad number is style 0, one out of range no style.
			n, ok := parseInt(a.Value)
			switch {
			case ok:
				c.style = n
			case isDigits(a.Value):
				c.style = -1
			default:
				c.style = 0
			}
		}
	}
	return nil
}

// placeText turns x.rowText into one string and points the values in it at
// their parts, so a row's own text costs one allocation.
func (x *Reader) placeText() {
	if len(x.rowText) == 0 {
		return
	}
	text := string(x.rowText)
	for i, sp := range x.spans {
		if sp.end > sp.start {
			x.vals[i] = text[sp.start:sp.end]
		}
	}
}

// finishCell stores the decoded cell in x.vals, or its place in x.rowText.
func (x *Reader) finishCell(row int, c *cell, limit int, header []string) error {
	mark := len(x.rowText)
	val, kind, err := x.cellValue(row, c)
	if err != nil {
		col := ""
		if header != nil {
			col = table.ColumnName(header, c.col)
		}
		return x.fail(row, col, err)
	}
	own := x.rowText[mark:]
	if c.col >= limit {
		x.rowText = x.rowText[:mark]
		if table.IsBlank(val) && table.IsBlank(string(own)) {
			return nil
		}
		if header == nil {
			return x.fail(row, "", table.Because(table.ErrRowTooWide, "header has more than %d columns", limit))
		}
		return x.fail(row, "", table.Because(table.ErrRowTooWide, "value in column %s (%d) but the header has only %d columns",
			table.ColumnLetters(c.col), c.col+1, limit))
	}
	for len(x.vals) <= c.col {
		x.vals = append(x.vals, "")
		x.kinds = append(x.kinds, table.Empty)
		x.spans = append(x.spans, span{})
	}
	switch {
	case kind == table.Unusable && header == nil:
		return x.fail(row, table.ColumnLetters(c.col), table.BecauseFix(table.ErrCellError, x.hint, "header cell %s %s", cellName(c.col, row), x.reason))
	case kind == table.Unusable:
		x.problems = append(x.problems, table.CellProblem{Column: c.col, Cell: cellName(c.col, row), Reason: x.reason, Hint: x.hint})
	case val == "" && len(own) == 0:
		kind = table.Empty
	}
	x.vals[c.col], x.kinds[c.col] = val, kind
	if len(own) > 0 {
		if len(x.rowText) > math.MaxInt32 {
			return x.fail(row, "", table.Because(table.ErrTooLarge, "row longer than 2 GiB"))
		}
		x.spans[c.col] = span{int32(mark), int32(len(x.rowText))}
	}
	return nil
}

// Why a cell is Unusable, and what to do.
const (
	reasonUncalculated = "has a formula whose result was never calculated (the program that wrote the file does not calculate)"
	hintCalculate      = "open and save the file in Excel (or LibreOffice) so it calculates"
	hintCellError      = "correct the formula or type the value in, in Excel (or LibreOffice), and save the file"
)

// unusable marks the cell being decoded Unusable, with its field text.
func (x *Reader) unusable(field, reason, hint string) (string, table.CellKind, error) {
	x.reason, x.hint = reason, hint
	return field, table.Unusable, nil
}

// cellValue renders the raw value of c (in x.buf) as text: either the string
// it returns or, when it returns "", what it appended to x.rowText. A cell
// whose value cannot be used is Unusable, with x.reason and x.hint; an
// error is for what breaks the file.
func (x *Reader) cellValue(row int, c *cell) (string, table.CellKind, error) {
	raw := x.buf
	if c.hasF {
		// A formula's result is its cached value; an empty one is none unless
		// the formula gives text (Excel saves an empty text result so).
		if !c.hasV || x.fullCalc || len(raw) == 0 && c.typ != typString && c.typ != typInline {
			return x.unusable("", reasonUncalculated, hintCalculate)
		}
	}
	switch c.typ {
	case typShared:
		if len(raw) == 0 {
			return "", table.Empty, nil
		}
		i, err := strconv.Atoi(string(raw))
		s, ok := x.sst.get(i)
		if err != nil || !ok {
			return "", table.Empty, table.Because(table.ErrMalformed, "cell %s refers to shared string %q, which does not exist", cellName(c.col, row), raw)
		}
		return s, table.Text, nil
	case typInline, typString:
		x.rowText = appendUnescaped(x.rowText, raw)
		return "", table.Text, nil
	case typBool:
		switch string(raw) {
		case "1", "true":
			return "TRUE", table.Bool, nil
		case "0", "false":
			return "FALSE", table.Bool, nil
		case "":
			return "", table.Empty, nil
		}
		return "", table.Empty, table.Because(table.ErrMalformed, "cell %s has the boolean value %q", cellName(c.col, row), raw)
	case typError:
		shown := decodeEscapes(string(raw)) // #N/A, #REF!, #DIV/0!
		if table.IsBlank(shown) {
			return x.unusable(shown, "holds an error value", hintCellError)
		}
		return x.unusable(shown, "shows the error "+shown, hintCellError)
	case typDate:
		if len(raw) == 0 {
			return "", table.Empty, nil
		}
		s, ok := isoDate(string(raw))
		if !ok {
			return "", table.Empty, table.Because(table.ErrMalformed, "cell %s has the date value %q", cellName(c.col, row), raw)
		}
		return s, table.Date, nil
	case typNumber:
		if len(raw) == 0 {
			return "", table.Empty, nil
		}
		return x.numberValue(row, c, raw)
	}
	return "", table.Empty, table.Because(table.ErrMalformed, "cell %s has the unknown type %q", cellName(c.col, row), c.typName)
}

// numberValue renders the number raw as c's style shows it: a date or a
// time, a number whose format pads it or adds text (or Unusable when the
// format also does what crmbatch does not apply), else the number as stored.
func (x *Reader) numberValue(row int, c *cell, raw []byte) (string, table.CellKind, error) {
	var st cellStyle
	if c.style >= 0 && c.style < len(x.styles) {
		st = x.styles[c.style]
	}
	switch st.shown {
	case shownDate:
		if s, ok := x.dateValue(raw); ok {
			return s, table.Date, nil
		}
	case shownTime, shownElapsed, shownLocale:
		if s, ok := x.timeValue(st.shown, string(raw)); ok {
			return s, table.Date, nil
		}
	case shownPattern:
		text, changes, odd := st.pattern.render(string(raw))
		switch {
		case changes && odd != "":
			stored, _ := plainNumber(raw)
			return x.unusable(stored, fmt.Sprintf("shows %s through the number format %q, which crmbatch does not apply (its %q)", stored, st.pattern.code, odd),
				"format the column as Text in Excel (or LibreOffice) and type the values as they should be read")
		case changes:
			x.rowText = append(x.rowText, text...)
			return "", table.Number, nil
		}
	}
	var ok bool
	if x.rowText, ok = appendPlainNumber(x.rowText, raw); !ok {
		return "", table.Empty, table.Because(table.ErrMalformed, "cell %s has the numeric value %q", cellName(c.col, row), raw)
	}
	return "", table.Number, nil
}

// dateValue renders the date serial raw, each serial once while the cache
// of the rendered ones holds (a sheet's dates repeat).
func (x *Reader) dateValue(raw []byte) (string, bool) {
	if s, ok := x.dates[string(raw)]; ok {
		return s, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return "", false
	}
	s, ok := serialDate(f, x.date1904)
	if !ok {
		return "", false
	}
	if x.dates == nil || len(x.dates) >= maxDateCache {
		x.dates = make(map[string]string)
	}
	x.dates[string(raw)] = s
	return s, true
}

// timeValue renders the serial raw as a time of day, elapsed hours, or (a
// built-in East Asian format, which is a date or a time by locale) a date,
// or a time when it has no day.
func (x *Reader) timeValue(shown shownAs, raw string) (string, bool) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return "", false
	}
	switch {
	case shown == shownTime, shown == shownLocale && f >= 0 && f < 1:
		return serialTime(f)
	case shown == shownElapsed:
		return serialElapsed(f)
	}
	return serialDate(f, x.date1904)
}

func (x *Reader) locate(column string, err error) error {
	return x.fail(x.row, column, err)
}

func (x *Reader) fail(row int, column string, err error) error {
	return &table.InputError{File: x.name, Sheet: x.sheet, Row: row, Column: column, Err: err}
}

func (x *Reader) malformed(row int, format string, args ...any) error {
	return x.fail(row, "", table.Because(table.ErrTruncated, "damaged sheet: "+format, args...))
}

// xmlError turns a decoding error of a part into an InputError.
func (x *Reader) xmlError(err error, row int) error {
	var ie *table.InputError
	if errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, table.ErrTooLarge) {
		return x.fail(row, "", err)
	}
	return x.fail(row, "", table.BecauseFix(table.ErrTruncated, "save or download it again", "damaged or incomplete file: %v", err))
}

// openMember opens a zip member, refusing one that expands past MaxXLSXBytes.
func (x *Reader) openMember(zf *zip.File) (io.ReadCloser, error) {
	max := x.opts.MaxXLSXBytes
	if zf.UncompressedSize64 > uint64(max) {
		return nil, x.fail(0, "", table.Because(table.ErrTooLarge, "%s expands to %d bytes, over the limit of %d", zf.Name, zf.UncompressedSize64, max))
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, x.fail(0, "", table.Because(table.ErrTruncated, "cannot read %s: %v", zf.Name, err))
	}
	return &memberReader{rc: rc, name: zf.Name, left: max}, nil
}

// readPart decodes an XML part into v; ok is false when the part is absent.
func (x *Reader) readPart(name string, v any) (ok bool, err error) {
	zf := x.parts[strings.ToLower(name)]
	if zf == nil {
		return false, nil
	}
	rc, err := x.openMember(zf)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return false, x.xmlError(fmt.Errorf("%s: %w", zf.Name, err), 0)
	}
	return true, nil
}

func (x *Reader) loadStyles(name string) error {
	var st stylesXML
	if _, err := x.readPart(name, &st); err != nil {
		return err
	}
	custom := make(map[int]string, len(st.NumFmts))
	for _, f := range st.NumFmts {
		custom[f.ID] = f.Code
	}
	x.styles = make([]cellStyle, len(st.Xfs))
	for i, xf := range st.Xfs {
		code, ok := custom[xf.NumFmtID]
		x.styles[i] = styleOf(xf.NumFmtID, code, ok)
	}
	return nil
}

func (x *Reader) loadSharedStrings(name string) error {
	zf := x.parts[strings.ToLower(name)]
	if zf == nil {
		return nil
	}
	rc, err := x.openMember(zf)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := x.sst.load(rc, x.tokenLimit(), x.rawCellLimit()); err != nil {
		return x.xmlError(fmt.Errorf("%s: %w", zf.Name, err), 0)
	}
	return nil
}

// memberReader counts the bytes a zip member expands to and fails past the limit.
type memberReader struct {
	rc   io.ReadCloser
	name string
	left int64
}

func (m *memberReader) Read(p []byte) (int, error) {
	n, err := m.rc.Read(p)
	m.left -= int64(n)
	if m.left < 0 {
		return 0, table.Because(table.ErrTooLarge, "%s expands past the size limit (zip bomb?)", m.name)
	}
	return n, err
}

func (m *memberReader) Close() error { return m.rc.Close() }

// stringTable is the shared strings part held compactly: one string and the
// end offset of each entry.
type stringTable struct {
	all  string
	ends []uint32
}

func (t *stringTable) get(i int) (string, bool) {
	if i < 0 || i >= len(t.ends) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.all[start:t.ends[i]], true
}

// load reads <sst>: the text of each <si>, without phonetic runs. limit
// bounds one XML token, maxString the raw text of one <si>.
func (t *stringTable) load(r io.Reader, limit, maxString int) error {
	sc := xmlscan.New(r)
	sc.Limit = limit
	var b strings.Builder
	var si []byte
	inSI, inT, inRPh, closed := false, false, false, false
	for {
		tok, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok {
		case xmlscan.Start:
			switch string(sc.Name()) {
			case "si":
				inSI, si = true, si[:0]
			case "rPh":
				inRPh = true
			case "t":
				inT = inSI && !inRPh
			}
		case xmlscan.End:
			switch string(sc.Name()) {
			case "si":
				writeUnescaped(&b, si)
				if b.Len() > math.MaxUint32 {
					return table.Because(table.ErrTooLarge, "shared strings over 4 GiB")
				}
				t.ends = append(t.ends, uint32(b.Len()))
				inSI = false
			case "rPh":
				inRPh = false
			case "t":
				inT = false
			case "sst":
				closed = true
			}
		case xmlscan.Text:
			if inT {
				si = append(si, sc.Text()...)
				if len(si) > maxString {
					return table.Because(table.ErrTooLarge, "shared string %d is longer than %d bytes", len(t.ends), maxString)
				}
			}
		}
	}
	if !closed {
		return io.ErrUnexpectedEOF
	}
	t.all = b.String()
	return nil
}

// decodeEscapes decodes OOXML's _xHHHH_ escapes of control characters.
func decodeEscapes(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	return string(appendUnescaped(nil, []byte(s)))
}

// writeUnescaped writes s to b with its _xHHHH_ escapes decoded.
func writeUnescaped(b *strings.Builder, s []byte) {
	for {
		i := escapeAt(s)
		if i < 0 {
			b.Write(s)
			return
		}
		b.Write(s[:i])
		n, _ := ParseHex4(s[i+2 : i+6])
		b.WriteRune(rune(n))
		s = s[i+7:]
	}
}

// appendUnescaped appends s to dst with its _xHHHH_ escapes decoded.
func appendUnescaped(dst, s []byte) []byte {
	for {
		i := escapeAt(s)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		n, _ := ParseHex4(s[i+2 : i+6])
		dst = utf8.AppendRune(dst, rune(n))
		s = s[i+7:]
	}
}

// escapeAt returns the offset of the first _xHHHH_ escape in s, or -1.
func escapeAt(s []byte) int {
	for i := 0; ; {
		j := bytes.Index(s[i:], []byte("_x"))
		if j < 0 {
			return -1
		}
		i += j
		if i+7 <= len(s) && s[i+6] == '_' {
			if _, ok := ParseHex4(s[i+2 : i+6]); ok {
				return i
			}
		}
		i++
	}
}

// ParseHex4 parses four hexadecimal digits (an _xHHHH_ escape's); the report
// writer checks its escapes with it too.
func ParseHex4(h []byte) (uint16, bool) {
	var n uint16
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint16(c)
	}
	return n, true
}

// parseInt parses a decimal integer with an optional sign as strconv.Atoi
// does, without allocating for the short numbers cells hold.
func parseInt(s []byte) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		n, err := strconv.Atoi(string(s))
		return n, err == nil
	}
	neg := s[0] == '-'
	if s[0] == '+' || s[0] == '-' {
		if s = s[1:]; len(s) == 0 {
			return 0, false
		}
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// isDigits reports whether s is one or more decimal digits after an optional sign.
func isDigits(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseCellRef parses "B14" into the 0-based column and the row number.
func parseCellRef[T string | []byte](s T) (col, row int, ok bool) {
	i := 0
	for ; i < len(s) && i < 4; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
	}
	if i == 0 || i == len(s) || col > MaxSheetColumns {
		return 0, 0, false
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		row = row*10 + int(c-'0')
		if row > MaxSheetRows {
			return 0, 0, false
		}
	}
	return col - 1, row, true
}

// xmlTrue reports whether an xsd:boolean attribute is true.
func xmlTrue(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

// cellName returns the A1 name of a cell.
func cellName(col, row int) string { return table.CellName(col, row) }

// resolvePart resolves a relationship target against the folder of its source part.
func resolvePart(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Join(dir, target), "/")
}

type relsXML struct {
	Rels []relXML `xml:"Relationship"`
}

type relXML struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

// byID returns the relationship with the id, or nil.
func (r *relsXML) byID(id string) *relXML {
	for i := range r.Rels {
		if r.Rels[i].ID == id {
			return &r.Rels[i]
		}
	}
	return nil
}

// target returns the part of the first relationship whose type ends in suffix.
func (r *relsXML) target(dir, suffix string) string {
	for _, rel := range r.Rels {
		if strings.HasSuffix(rel.Type, suffix) {
			return resolvePart(dir, rel.Target)
		}
	}
	return ""
}

type workbookXML struct {
	Pr *struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Calc *struct {
		FullCalcOnLoad string `xml:"fullCalcOnLoad,attr"`
	} `xml:"calcPr"`
	Sheets []sheetXML `xml:"sheets>sheet"`
}

type sheetXML struct {
	Name  string     `xml:"name,attr"`
	State string     `xml:"state,attr"`
	Attrs []xml.Attr `xml:",any,attr"`
}

// rid returns the sheet's r:id, whatever the namespace's prefix or version.
func (s *sheetXML) rid() string {
	for _, a := range s.Attrs {
		if a.Name.Local == "id" {
			return a.Value
		}
	}
	return ""
}

type stylesXML struct {
	NumFmts []struct {
		ID   int    `xml:"numFmtId,attr"`
		Code string `xml:"formatCode,attr"`
	} `xml:"numFmts>numFmt"`
	Xfs []struct {
		NumFmtID int `xml:"numFmtId,attr"`
	} `xml:"cellXfs>xf"`
}
