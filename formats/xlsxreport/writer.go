package xlsxreport

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/formats/internal/table"
	"github.com/crmbatch/crmbatch/formats/xlsx"
)

// The writer keeps to the sheet limits the reader knows.
const (
	maxSheetRows    = xlsx.MaxSheetRows
	maxSheetColumns = xlsx.MaxSheetColumns
)

// resultsSheet names the XLSX report's sheet.
const resultsSheet = "Results"

// Column widths of XLSX reports, in characters.
const (
	minColumnWidth  = 6
	maxColumnWidth  = 50
	wrapColumnWidth = 60 // the most of a column whose long texts wrap (an error message)
	dateColumnWidth = 21 // yyyy-mm-dd hh:mm:ss and a margin: narrower shows ###
	filterMargin    = 4  // a header's autofilter button
)

// measuredRows is how many rows of the results sheet are held back, and
// measured, before its column widths are written: widths precede the rows in
// the sheet's XML, and the rows are streamed.
const measuredRows = 200

// maxCellChars is the most characters (UTF-16 code units) Excel keeps in a
// cell; longer texts are cut there, as excelize did, so Excel opens the file.
const maxCellChars = 32767

// The cell formats (cellXfs) of xlsxStyles, by index.
const (
	xfDefault = iota
	xfText    // the built-in "@" format: the cell is text
	xfBold    // text, bold
	xfTinted  // text on a light red fill
	xfAmount  // a number shown with two decimals
	xfDate    // a date and time, shown as yyyy-mm-dd hh:mm:ss
	xfWrap    // text, wrapped, aligned to the top
	xfTintedWrap
	xfInteger // a whole number with thousands separators
	xfNumber  // a number in the General format
	xfWhole   // a whole number as it is: a row number, attempts
	xfWholeTinted
	xfDateTinted
	xfHeadNumber // bold, right-aligned: the heading of a column of numbers
	// xfAmounts is the first of the amount formats: xfAmounts+2*d shows d
	// decimals with thousands separators, xfAmounts+2*d+1 the same tinted.
	xfAmounts
)

// xfWholeCentred is xfWhole centred, in the results sheet, where a row number
// stands between texts; the amount formats come before it.
const (
	xfWholeCentred = xfAmounts + 2*(table.MaxAmountDecimals+1) + iota
	xfWholeCentredTinted
)

// Namespaces and part types of SpreadsheetML.
const (
	nsMain     = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels     = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPkgRels  = "http://schemas.openxmlformats.org/package/2006/relationships"
	relType    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	ctSheet    = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
	xmlDecl    = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	sheetStart = xmlDecl + `<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRels + `">`
)

// heldRow is a row of the results sheet held back until the columns' widths
// are known.
type heldRow struct {
	fields []string
	kinds  []table.CellKind
	xf     int
}

type extraSheet struct {
	name  string
	rows  [][]string
	kinds [][]table.CellKind // Number cells are numbers; nil = all text
}

// Options tune a workbook.
type Options struct {
	// Kinds type the results sheet's columns: the cells of a Number column
	// are numbers shown with two decimals, those of a Date column
	// (YYYY-MM-DDTHH:MM:SS) real dates, of an Integer or amount column
	// (table.AmountKind) numbers as the kind shows them; every other cell is
	// text.
	Kinds []table.CellKind
	// Wrap marks the columns (by index) whose long texts wrap in a wide
	// column, such as an error message.
	Wrap []bool
	// PageOne, when positive, is how many leading columns are printed on
	// the first pages, at a scale that keeps the 11-point text at 9 points
	// or more, the other columns on the pages after them; 0: the results
	// sheet prints one page wide.
	PageOne int
	// Titles is how many leading columns are printed on every page, with
	// the header row.
	Titles int
}

// Writer writes an XLSX workbook as a stream: the results sheet goes
// straight into its zip member as rows come, every cell an inline string,
// so memory does not grow with the rows. The other parts, which depend on
// the sheets added, are written on Close.
type Writer struct {
	out   *bufio.Writer // the workbook's file
	zw    *zip.Writer
	sheet *bufio.Writer // the results sheet's zip member
	width int           // header columns
	row   int           // rows written to the results sheet
	line  []byte
	refs  []string         // column letters, by column
	kinds []table.CellKind // Number and Date columns of a typed report; others are text
	wrap  []bool           // columns whose texts wrap in a wide column
	extra []extraSheet
	// Until the sheet's head is written (started), rows wait in pending and
	// their widths are measured.
	started bool
	pending []heldRow
	widths  []int
	// shown are the columns' widths as written: a wrapped cell's row is as
	// tall as its lines in them.
	shown []int
	// pageOne columns are printed first at scale percent, titles columns
	// on every page (see Options).
	pageOne, titles, scale int
}

// New starts a workbook written to w, its results sheet headed by header
// (bold, frozen, with an autofilter). Rows follow with WriteRow, other
// sheets with AddSheet; Close finishes the workbook.
func New(w io.Writer, header []string, opts Options) (*Writer, error) {
	r := &Writer{width: len(header)}
	r.out = bufio.NewWriterSize(w, 256<<10)
	r.zw = zip.NewWriter(r.out)
	// The fastest deflate: report XML is repetitive enough that it still
	// shrinks about tenfold, and the default level is four times slower.
	r.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	if err := r.begin(header); err != nil {
		return nil, err
	}
	r.kinds, r.wrap = opts.Kinds, opts.Wrap
	r.pageOne, r.titles = min(opts.PageOne, len(header)), min(opts.Titles, len(header))
	return r, nil
}

// create starts the zip member name.
func (r *Writer) create(name string) (io.Writer, error) {
	return r.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
}

// begin starts the results sheet with its header row, held back with the
// first rows until their widths are known (see start).
func (r *Writer) begin(header []string) error {
	if len(header) > maxSheetColumns {
		return fmt.Errorf("%d columns, more than a sheet's %d", len(header), maxSheetColumns)
	}
	w, err := r.create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	r.sheet = bufio.NewWriterSize(w, 64<<10)
	r.widths = make([]int, len(header))
	return r.writeRow(header, nil, xfBold)
}

// start writes the head of the results sheet: page set-up (landscape, one
// page wide), the frozen header pane and the column widths measured on the
// rows held back, then those rows.
func (r *Writer) start() error {
	r.started = true
	b := append(r.line[:0], sheetStart...)
	if r.pageOne == 0 {
		b = append(b, `<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>`...)
	}
	b = append(b, `<sheetViews><sheetView tabSelected="1" workbookViewId="0">`+
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`+
		`<sheetFormatPr defaultRowHeight="15"/>`...)
	widths := make([]int, len(r.widths))
	for i, w := range r.widths {
		switch {
		case i < len(r.wrap) && r.wrap[i]:
			w = min(w, wrapColumnWidth) // longer texts wrap
		case i < len(r.kinds) && r.kinds[i] == table.Date:
			w = max(w, dateColumnWidth)
		}
		widths[i] = w
	}
	if r.pageOne > 0 {
		r.scale = printScale(widths[:r.pageOne], r.wrap)
	}
	b = appendCols(b, widths)
	r.shown = widths
	b = append(b, "<sheetData>"...)
	for i, h := range r.pending {
		b = r.appendRow(b, i+1, h.fields, h.kinds, h.xf)
	}
	r.pending = nil
	_, err := r.sheet.Write(b)
	r.line = b[:0]
	return err
}

// lineHeight is the height in points of a line of 11-point text.
const lineHeight = 15

// lines is how many lines the row's wrapped cells take in their columns
// (1 when none wraps), so that the whole text shows.
func (r *Writer) lines(fields []string) int {
	n := 1
	for i, f := range fields {
		if i >= len(r.wrap) || !r.wrap[i] || i >= len(r.shown) || len(f) <= r.shown[i] {
			continue
		}
		// A line holds about 1.17 characters per unit of width (a digit's),
		// less a part word carried over to the next line when it wraps.
		per := max(r.shown[i]*117/100-1, 8)
		k := 0
		for _, para := range strings.Split(f, "\n") {
			n := utf8.RuneCountInString(para)
			if n > per {
				n = (n + per - 7) / (per - 6)
			} else {
				n = 1
			}
			k += n
		}
		n = max(n, k)
	}
	return min(n, 409/lineHeight) // Excel's tallest row is 409 points
}

// Printing the first columns: the narrowest page is Letter landscape, 11
// inches less the margins; the text is 11 points and must print at 9 or more.
const (
	printWidthInches = (11 - 0.4 - 0.4) * 0.95 // and a margin for a font a little wider than Calibri
	minPrintScale    = 82                      // percent: 9 of 11 points
	minWrapWidth     = 30                      // characters: a wrapped column narrows to no less
)

// printScale is the scale (percent, at most 100) at which the columns of
// widths (characters) fit a page's width, their wrapped columns narrowed as
// far as minWrapWidth first when they do not fit at minPrintScale.
func printScale(widths []int, wrap []bool) int {
	inches := func() float64 {
		n := 0.0
		for _, w := range widths {
			w = min(max(w, minColumnWidth), max(maxColumnWidth, wrapColumnWidth))
			n += float64(7*w+5) / 96 // Excel's pixels of a column, at 96 per inch
		}
		return n
	}
	for i := range widths {
		for i < len(wrap) && wrap[i] && widths[i] > minWrapWidth && printWidthInches/inches()*100 < minPrintScale {
			widths[i]--
		}
	}
	return max(minPrintScale, min(100, int(printWidthInches/inches()*100)))
}

// appendCols appends <cols> with the widths, clamped, in characters.
func appendCols(b []byte, widths []int) []byte {
	if len(widths) == 0 {
		return b
	}
	b = append(b, "<cols>"...)
	for i, w := range widths {
		w = min(max(w, minColumnWidth), max(maxColumnWidth, wrapColumnWidth))
		b = fmt.Appendf(b, `<col min="%d" max="%d" width="%d" customWidth="1"/>`, i+1, i+1, w)
	}
	return append(b, "</cols>"...)
}

// measure widens the columns to the row's texts, as shown: a date as
// yyyy-mm-dd hh:mm:ss, the header with room for its filter button.
func (r *Writer) measure(fields []string, kinds []table.CellKind) {
	for i, f := range fields {
		if i >= len(r.widths) {
			break
		}
		n := 0
		for _, line := range strings.Split(f, "\n") {
			n = max(n, utf8.RuneCountInString(line))
		}
		switch {
		case r.row == 1:
			n += filterMargin
		case i < len(kinds) && kinds[i] == table.Date, i < len(r.kinds) && r.kinds[i] == table.Date:
			n = max(n, dateColumnWidth-2)
		}
		limit := maxColumnWidth
		if i < len(r.wrap) && r.wrap[i] {
			limit = wrapColumnWidth
		}
		r.widths[i] = min(max(r.widths[i], n+2), limit)
	}
}

// writeRow appends a row of the results sheet; kinds (nil = none) are its
// cells' kinds in the job file.
func (r *Writer) writeRow(fields []string, kinds []table.CellKind, xf int) error {
	if r.row >= maxSheetRows {
		return fmt.Errorf("more than %d rows, the most a sheet holds", maxSheetRows)
	}
	if len(fields) > maxSheetColumns {
		return fmt.Errorf("%d columns, more than a sheet's %d", len(fields), maxSheetColumns)
	}
	r.row++
	if !r.started {
		r.measure(fields, kinds)
		r.pending = append(r.pending, heldRow{fields: append([]string(nil), fields...), kinds: append([]table.CellKind(nil), kinds...), xf: xf})
		if r.row > measuredRows {
			return r.start()
		}
		return nil
	}
	r.line = r.appendRow(r.line[:0], r.row, fields, kinds, xf)
	_, err := r.sheet.Write(r.line)
	return err
}

// appendRow appends row number n with the cells, each an inline string in
// the format xf (the row too, so its empty cells share the look), or, in a
// wrapped column, its wrapped variant; kinds are the cells' kinds in the job
// file (nil = none): a date cell stays a date.
func (r *Writer) appendRow(b []byte, n int, fields []string, kinds []table.CellKind, xf int) []byte {
	var nb [20]byte
	row := strconv.AppendInt(nb[:0], int64(n), 10)
	b = append(b, `<row r="`...)
	b = append(b, row...)
	b = append(b, `" s="`...)
	b = strconv.AppendInt(b, int64(xf), 10)
	b = append(b, `" customFormat="1"`...)
	if n > 1 {
		if k := r.lines(fields); k > 1 {
			b = append(b, ` ht="`...)
			b = strconv.AppendInt(b, int64(k*lineHeight), 10)
			b = append(b, `" customHeight="1"`...)
		}
	}
	b = append(b, '>')
	for i, f := range fields {
		b = append(b, `<c r="`...)
		b = append(b, r.colRef(i)...)
		b = append(b, row...)
		b = append(b, `" s="`...)
		if v, cx, ok := r.typed(i, f, n, kinds); ok {
			if cx == xfWhole {
				cx = xfWholeCentred
			}
			if xf == xfTinted {
				cx = tinted(cx)
			}
			b = strconv.AppendInt(b, int64(cx), 10)
			b = append(b, `"><v>`...)
			b = append(b, v...)
			b = append(b, `</v></c>`...)
			continue
		}
		cx := xf
		if n > 1 && i < len(r.wrap) && r.wrap[i] {
			cx = wrapped(xf)
		}
		b = strconv.AppendInt(b, int64(cx), 10)
		if f == "" {
			b = append(b, `"/>`...)
			continue
		}
		b = append(b, `" t="inlineStr"><is><t`...)
		if c0, c1 := f[0], f[len(f)-1]; isXMLSpace(c0) || isXMLSpace(c1) {
			b = append(b, ` xml:space="preserve"`...)
		}
		b = append(b, '>')
		b = appendCellText(b, f)
		b = append(b, `</t></is></c>`...)
	}
	return append(b, `</row>`...)
}

// wrapped is the wrapped variant of a text format.
func wrapped(xf int) int {
	switch xf {
	case xfText:
		return xfWrap
	case xfTinted:
		return xfTintedWrap
	}
	return xf
}

// typed returns the value of a cell of a Number or Date column, or a Date
// cell of the job file (kinds), as a number (a date as its serial day count
// in the 1900 system), or false when the cell is text, the row is the
// header, or the text is not a plain number or an ISO date: such a cell
// stays text, as written. A Number cell of the job file stays text: it may
// be an ID.
func (r *Writer) typed(col int, f string, row int, kinds []table.CellKind) (string, int, bool) {
	if row == 1 || f == "" {
		return "", 0, false
	}
	kind := table.Text
	switch {
	case col < len(r.kinds) && r.kinds[col] != table.Text:
		kind = r.kinds[col]
	case col < len(kinds) && kinds[col] != table.Number:
		kind = kinds[col]
	}
	return typedValue(f, kind, xfAmount)
}

// tinted is the tinted variant of a number format.
func tinted(xf int) int {
	switch {
	case xf == xfWhole:
		return xfWholeTinted
	case xf == xfWholeCentred:
		return xfWholeCentredTinted
	case xf == xfDate:
		return xfDateTinted
	case xf >= xfAmounts && (xf-xfAmounts)%2 == 0:
		return xf + 1
	}
	return xf
}

// typedValue is f as the value of a number cell of kind (Number in the
// format numXF), or false when f is not a plain number or an ISO date.
func typedValue(f string, kind table.CellKind, numXF int) (string, int, bool) {
	if d, ok := table.AmountDecimals(kind); ok {
		kind, numXF = table.Number, xfAmounts+2*d
	}
	switch kind {
	case table.Integer:
		digits := strings.TrimPrefix(f, "-")
		if digits == "" || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			return "", 0, false
		}
		return f, xfWhole, true
	case table.Number:
		if _, err := strconv.ParseFloat(f, 64); err != nil || strings.ContainsAny(f, "eEinIN") {
			return "", 0, false
		}
		return f, numXF, true
	case table.Date:
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, f); err == nil {
				// Day 25569 is 1970-01-01 in the 1900 system (which counts
				// 1900-02-29, so every date after February 1900 is off by one).
				days := float64(t.Unix())/86400 + 25569
				return strconv.FormatFloat(days, 'f', -1, 64), xfDate, true
			}
		}
	}
	return "", 0, false
}

// colRef returns the letters of column i, cached.
func (r *Writer) colRef(i int) string {
	for len(r.refs) <= i {
		r.refs = append(r.refs, table.ColumnLetters(len(r.refs)))
	}
	return r.refs[i]
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// plainCellByte marks the bytes a cell's text can hold as they are.
var plainCellByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['\t'], t['\n'] = true, true
	t['&'], t['<'], t['>'], t['_'] = false, false, false, false
	return t
}()

// appendCellText appends s as the text of a <t> element. Markup characters
// become entities. Characters XML 1.0 forbids (C0 controls but tab and line
// feed, U+FFFE, U+FFFF) and carriage returns, which XML readers would turn
// into line feeds, become OOXML _xHHHH_ escapes, which Excel and our reader
// decode; an underscore that starts such a sequence literally becomes _x005F_
// so it reads back as written. Bytes that are not UTF-8 become U+FFFD. Text
// beyond maxCellChars is cut, with cutMark at its end.
func appendCellText(b []byte, s string) []byte {
	s = cutCell(s)
	i := 0
	for i < len(s) && plainCellByte[s[i]] {
		i++
	}
	if i == len(s) {
		return append(b, s...)
	}
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '_' && i+7 <= len(s) && s[i+1] == 'x' && s[i+6] == '_' && isHex4(s[i+2:i+6]):
				b = append(b, "_x005F_"...)
			case plainCellByte[c] || c == '_':
				b = append(b, c)
			default:
				b = appendEscape(b, rune(c))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, "\uFFFD"...)
		case r == 0xFFFE || r == 0xFFFF:
			b = appendEscape(b, r)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

// appendEscape appends r as _xHHHH_.
func appendEscape(b []byte, r rune) []byte {
	const hex = "0123456789ABCDEF"
	return append(b, '_', 'x', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15], '_')
}

func isHex4(s string) bool {
	_, ok := xlsx.ParseHex4([]byte(s))
	return ok
}

// cutMark ends a cell cut at Excel's limit, so that a reader of the report
// knows the job file's cell held more.
const cutMark = " [cut at 32,767 characters]"

// cutCell returns s if it fits in an Excel cell, else its start and cutMark,
// maxCellChars characters in all.
func cutCell(s string) string {
	if !table.LongerThan(s, maxCellChars) {
		return s
	}
	return cutUTF16(s, maxCellChars-len(cutMark)) + cutMark
}

// cutUTF16 returns the longest prefix of s of at most n UTF-16 code units.
// A byte that is not UTF-8 counts as one (it is written as U+FFFD).
func cutUTF16(s string, n int) string {
	if len(s) <= n {
		return s // n bytes are at most n units
	}
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > n {
			return s[:i]
		}
		units += u
	}
	return s
}

// appendAttr appends s escaped for an attribute value in double quotes.
func appendAttr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// WriteRow appends a row to the results sheet; fields are aligned with the
// header, kinds (nil = none) are the cells' kinds in the job file: a Date
// cell holding an ISO date is written as a real date, Integer and amount
// kinds as numbers, a Number cell stays text (it may be an ID). A tinted row
// has a light red fill.
func (r *Writer) WriteRow(fields []string, kinds []table.CellKind, tinted bool) error {
	xf := xfText
	if tinted {
		xf = xfTinted
	}
	return r.writeRow(fields, kinds, xf)
}

// AddSheet adds a sheet written on Close, its first row bold, with a kind
// per cell (kinds aligned with rows; nil = all text): Number, Integer and
// amount cells holding a plain number are number cells, Heading cells bold.
func (r *Writer) AddSheet(name string, rows [][]string, kinds [][]table.CellKind) error {
	if strings.EqualFold(name, resultsSheet) {
		return fmt.Errorf("report sheet %q already exists", name)
	}
	for _, s := range r.extra {
		if strings.EqualFold(s.name, name) {
			return fmt.Errorf("report sheet %q already exists", name)
		}
	}
	if name == "" || utf8.RuneCountInString(name) > 31 || strings.ContainsAny(name, `:\/?*[]`) ||
		strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'") || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0xFFFE || r == 0xFFFF }) {
		return fmt.Errorf("invalid sheet name %q", name)
	}
	if len(rows) > maxSheetRows {
		return fmt.Errorf("report sheet %q: %d rows, more than a sheet's %d", name, len(rows), maxSheetRows)
	}
	cp := make([][]string, len(rows))
	for i, row := range rows {
		if len(row) > maxSheetColumns {
			return fmt.Errorf("report sheet %q: %d columns, more than a sheet's %d", name, len(row), maxSheetColumns)
		}
		cp[i] = append([]string(nil), row...)
	}
	var kc [][]table.CellKind
	for _, k := range kinds {
		kc = append(kc, append([]table.CellKind(nil), k...))
	}
	r.extra = append(r.extra, extraSheet{name: name, rows: cp, kinds: kc})
	return nil
}

// Close ends the results sheet, writes the added sheets and the parts that
// tie the workbook together, and flushes the workbook to its writer. The
// Writer is not used after it.
func (r *Writer) Close() error {
	if !r.started {
		if err := r.start(); err != nil {
			return err
		}
	}
	b := append(r.line[:0], "</sheetData>"...)
	if r.width > 0 {
		b = append(b, `<autoFilter ref="A1:`...)
		b = append(b, table.ColumnLetters(r.width-1)...)
		b = append(b, `1"/>`...)
	}
	// Printed: landscape, the header row on every page (the workbook's
	// Print_Titles); one page wide, or the first columns on the first pages
	// (a break after them) at a scale that keeps the text readable.
	b = append(b, `<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>`...)
	if r.pageOne > 0 {
		b = fmt.Appendf(b, `<pageSetup orientation="landscape" scale="%d" pageOrder="downThenOver"/>`, r.scale)
	} else {
		b = append(b, `<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>`...)
	}
	b = append(b, `<headerFooter><oddFooter>&amp;L&amp;F&amp;RPage &amp;P of &amp;N</oddFooter></headerFooter>`...)
	if r.pageOne > 0 && r.pageOne < r.width {
		b = fmt.Appendf(b, `<colBreaks count="1" manualBreakCount="1"><brk id="%d" max="1048575" man="1"/></colBreaks>`, r.pageOne)
	}
	b = append(b, "</worksheet>"...)
	if _, err := r.sheet.Write(b); err != nil {
		return err
	}
	if err := r.sheet.Flush(); err != nil {
		return err
	}
	for i, s := range r.extra {
		if err := r.writeExtra(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+2), s); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		body []byte
	}{
		{"[Content_Types].xml", r.contentTypes()},
		{"_rels/.rels", []byte(xmlDecl + `<Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId1" Type="` + relType + `officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{"xl/workbook.xml", r.workbook()},
		{"xl/_rels/workbook.xml.rels", r.workbookRels()},
		{"xl/styles.xml", []byte(xlsxStyles)},
		{"xl/theme/theme1.xml", []byte(xlsxTheme)},
	} {
		w, err := r.create(p.name)
		if err != nil {
			return err
		}
		if _, err := w.Write(p.body); err != nil {
			return err
		}
	}
	if err := r.zw.Close(); err != nil {
		return err
	}
	return r.out.Flush()
}

// writeExtra writes a sheet added by AddSheet: its first row bold, columns
// as wide as their longest text but for a row's only cell (a title, a
// sentence), which runs on over the empty cells beside it.
func (r *Writer) writeExtra(part string, s extraSheet) error {
	w, err := r.create(part)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	widths := extraWidths(s)
	b := append(r.line[:0], sheetStart...)
	b = append(b, `<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>`+
		`<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>`...)
	b = appendCols(b, widths)
	b = append(b, "<sheetData>"...)
	b, merged, err := r.appendExtraRows(b, bw, s, widths)
	if err != nil {
		return err
	}
	b = append(b, "</sheetData>"...)
	if len(merged) > 0 {
		b = fmt.Appendf(b, `<mergeCells count="%d">`, len(merged))
		for _, n := range merged {
			b = fmt.Appendf(b, `<mergeCell ref="A%d:%s%d"/>`, n, table.ColumnLetters(len(widths)-1), n)
		}
		b = append(b, `</mergeCells>`...)
	}
	b = appendExtraPrint(b, widths)
	r.line = b
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// extraWidths returns the widths of an added sheet's columns, in
// characters: as wide as their longest text, a number's with room for its
// thousands separators, a row's only cell left out.
func extraWidths(s extraSheet) []int {
	var widths []int
	for j, row := range s.rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			if len(row) > 1 {
				n := utf8.RuneCountInString(c)
				if j < len(s.kinds) && i < len(s.kinds[j]) {
					if _, _, ok := typedValue(c, s.kinds[j][i], xfNumber); ok {
						n += n / 3 // room for thousands separators
					}
				}
				widths[i] = max(widths[i], n+2)
			}
		}
	}
	return widths
}

// appendExtraRows appends the rows of an added sheet to b, writing b to bw
// as it grows, and returns the numbers of the rows whose only cell, a text
// wider than its column, is merged across the table.
func (r *Writer) appendExtraRows(b []byte, bw *bufio.Writer, s extraSheet, widths []int) ([]byte, []int, error) {
	// A sentence on a row of its own wraps across the whole table.
	width := 0
	for _, w := range widths {
		width += min(max(w, minColumnWidth), max(maxColumnWidth, wrapColumnWidth))
	}
	var merged []int
	for i, row := range s.rows {
		xf := xfText
		if i == 0 {
			xf = xfBold
		}
		var kinds []table.CellKind
		if i < len(s.kinds) {
			kinds = s.kinds[i]
		}
		if len(row) == 1 && len(widths) > 1 && utf8.RuneCountInString(row[0]) > widths[0] && (len(kinds) == 0 || kinds[0] == table.Text) {
			merged = append(merged, i+1)
			lines := 1 + utf8.RuneCountInString(row[0])/max(width-6, 8)
			b = fmt.Appendf(b, `<row r="%d" ht="%d" customHeight="1"><c r="A%d" s="%d" t="inlineStr"><is><t>`, i+1, lines*lineHeight, i+1, xfWrap)
			b = appendCellText(b, row[0])
			b = append(b, `</t></is></c></row>`...)
		} else {
			b = appendExtraRow(b, r, i+1, row, kinds, xf)
		}
		if len(b) > 16<<10 {
			if _, err := bw.Write(b); err != nil {
				return b, nil, err
			}
			b = b[:0]
		}
	}
	return b, merged, nil
}

// appendExtraPrint appends the page set-up of an added sheet whose columns
// are widths wide: printed one page wide, as many long as it takes, upright
// when it fits a Letter or A4 page so at 9 points or more.
func appendExtraPrint(b []byte, widths []int) []byte {
	inches := 0.0
	for _, w := range widths {
		w = min(max(w, minColumnWidth), max(maxColumnWidth, wrapColumnWidth))
		inches += float64(7*w+5) / 96
	}
	orientation := "landscape"
	if inches*minPrintScale/100 <= 8.5-0.8 {
		orientation = "portrait"
	}
	b = append(b, `<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>`...)
	return fmt.Appendf(b, `<pageSetup orientation="%s" fitToWidth="1" fitToHeight="0"/></worksheet>`, orientation)
}

// appendExtraRow appends a row of an added sheet: its Number cells are
// numbers (whole ones with thousands separators, amounts with two decimals),
// its Integer and amount cells numbers as in the results, its Heading cells
// bold text, the others text in the format xf.
func appendExtraRow(b []byte, r *Writer, n int, fields []string, kinds []table.CellKind, xf int) []byte {
	var nb [20]byte
	row := strconv.AppendInt(nb[:0], int64(n), 10)
	b = append(b, `<row r="`...)
	b = append(b, row...)
	b = append(b, `">`...)
	for i, f := range fields {
		k := table.Text
		if i < len(kinds) {
			k = kinds[i]
		}
		if v, cx, ok := typedValue(f, k, xfNumber); ok {
			if k == table.Number {
				switch dot := strings.IndexByte(f, '.'); {
				case dot < 0:
					cx = xfInteger
				case len(f)-dot-1 == 2:
					cx = xfAmount
				}
			}
			b = fmt.Appendf(b, `<c r="%s%s" s="%d"><v>%s</v></c>`, r.colRef(i), row, cx, v)
			continue
		}
		cx := xf
		switch _, amount := table.AmountDecimals(k); {
		case k == table.Heading:
			cx = xfBold
		case xf == xfBold && (k == table.Integer || amount):
			cx = xfHeadNumber // the heading of a column of numbers
		}
		b = fmt.Appendf(b, `<c r="%s%s" s="%d"`, r.colRef(i), row, cx)
		if f == "" {
			b = append(b, `/>`...)
			continue
		}
		b = append(b, ` t="inlineStr"><is><t xml:space="preserve">`...)
		b = appendCellText(b, f)
		b = append(b, `</t></is></c>`...)
	}
	return append(b, `</row>`...)
}

func (r *Writer) contentTypes() []byte {
	b := []byte(xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>`)
	for i := range 1 + len(r.extra) {
		b = fmt.Appendf(b, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="%s"/>`, i+1, ctSheet)
	}
	return append(b, `</Types>`...)
}

func (r *Writer) workbook() []byte {
	b := []byte(xmlDecl + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRels + `">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets>` +
		`<sheet name="` + resultsSheet + `" sheetId="1" r:id="rId1"/>`)
	for i, s := range r.extra {
		b = append(b, `<sheet name="`...)
		b = appendAttr(b, s.name)
		b = fmt.Appendf(b, `" sheetId="%d" r:id="rId%d"/>`, i+2, i+2)
	}
	b = append(b, `</sheets>`...)
	if r.width > 0 {
		// The hidden name Excel keeps for an autofilter's range, and the
		// header row printed on every page.
		b = append(b, `<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'`+resultsSheet+`'!$A$1:$`...)
		b = append(b, table.ColumnLetters(r.width-1)...)
		b = append(b, `$1</definedName>`...)
		b = append(b, `<definedName name="_xlnm.Print_Titles" localSheetId="0">`...)
		if r.titles > 0 {
			b = append(b, `'`+resultsSheet+`'!$A:$`...)
			b = append(b, table.ColumnLetters(r.titles-1)...)
			b = append(b, ',')
		}
		b = append(b, `'`+resultsSheet+`'!$1:$1</definedName></definedNames>`...)
	}
	return append(b, `</workbook>`...)
}

func (r *Writer) workbookRels() []byte {
	b := []byte(xmlDecl + `<Relationships xmlns="` + nsPkgRels + `">`)
	n := 1 + len(r.extra)
	for i := range n {
		b = fmt.Appendf(b, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, i+1, relType, i+1)
	}
	b = fmt.Appendf(b, `<Relationship Id="rId%d" Type="%sstyles" Target="styles.xml"/>`, n+1, relType)
	b = fmt.Appendf(b, `<Relationship Id="rId%d" Type="%stheme" Target="theme/theme1.xml"/>`, n+2, relType)
	return append(b, `</Relationships>`...)
}

// xlsxStyles holds the cell formats of the xf constants, by index.
const xlsxStyles = xmlDecl + `<styleSheet xmlns="` + nsMain + `">` +
	`<numFmts count="4"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/>` +
	`<numFmt numFmtId="165" formatCode="#,##0.0"/><numFmt numFmtId="166" formatCode="#,##0.000"/>` +
	`<numFmt numFmtId="167" formatCode="#,##0.0000"/></numFmts>` +
	`<fonts count="2">` +
	`<font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
	`<font><b val="1"/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
	`</fonts>` +
	`<fills count="3">` +
	`<fill><patternFill patternType="none"/></fill>` +
	`<fill><patternFill patternType="gray125"/></fill>` +
	`<fill><patternFill patternType="solid"><fgColor rgb="FFFFC7CE"/><bgColor indexed="64"/></patternFill></fill>` +
	`</fills>` +
	`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
	`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
	`<cellXfs count="26">` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>` +
	`<xf numFmtId="49" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>` +
	`<xf numFmtId="49" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>` +
	`<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
	`<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="1" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="164" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1" applyAlignment="1"><alignment horizontal="right"/></xf>` +
	`<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="3" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="165" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="4" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="166" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="167" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
	`<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top" horizontal="center"/></xf>` +
	`<xf numFmtId="1" fontId="0" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" applyFill="1" applyAlignment="1"><alignment vertical="top" horizontal="center"/></xf>` +
	`</cellXfs>` +
	`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
	`<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>` +
	`</styleSheet>`

// xlsxTheme is the Office theme's colours and fonts, with the plainest
// formatting scheme DrawingML allows. Excel expects a theme; the styles'
// theme colours refer to it.
const xlsxTheme = xmlDecl + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme">` +
	`<a:themeElements>` +
	`<a:clrScheme name="Office">` +
	`<a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1>` +
	`<a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` +
	`<a:dk2><a:srgbClr val="44546A"/></a:dk2>` +
	`<a:lt2><a:srgbClr val="E7E6E6"/></a:lt2>` +
	`<a:accent1><a:srgbClr val="4472C4"/></a:accent1>` +
	`<a:accent2><a:srgbClr val="ED7D31"/></a:accent2>` +
	`<a:accent3><a:srgbClr val="A5A5A5"/></a:accent3>` +
	`<a:accent4><a:srgbClr val="FFC000"/></a:accent4>` +
	`<a:accent5><a:srgbClr val="5B9BD5"/></a:accent5>` +
	`<a:accent6><a:srgbClr val="70AD47"/></a:accent6>` +
	`<a:hlink><a:srgbClr val="0563C1"/></a:hlink>` +
	`<a:folHlink><a:srgbClr val="954F72"/></a:folHlink>` +
	`</a:clrScheme>` +
	`<a:fontScheme name="Office">` +
	`<a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>` +
	`<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>` +
	`</a:fontScheme>` +
	`<a:fmtScheme name="Office">` +
	`<a:fillStyleLst>` + themeFill + themeFill + themeFill + `</a:fillStyleLst>` +
	`<a:lnStyleLst>` + themeLine + themeLine + themeLine + `</a:lnStyleLst>` +
	`<a:effectStyleLst>` + themeEffect + themeEffect + themeEffect + `</a:effectStyleLst>` +
	`<a:bgFillStyleLst>` + themeFill + themeFill + themeFill + `</a:bgFillStyleLst>` +
	`</a:fmtScheme>` +
	`</a:themeElements>` +
	`<a:objectDefaults/><a:extraClrSchemeLst/>` +
	`</a:theme>`

const (
	themeFill   = `<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>`
	themeLine   = `<a:ln w="6350" cap="flat" cmpd="sng" algn="ctr"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:prstDash val="solid"/><a:miter lim="800000"/></a:ln>`
	themeEffect = `<a:effectStyle><a:effectLst/></a:effectStyle>`
)
