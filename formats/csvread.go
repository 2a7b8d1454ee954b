package formats

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a CSV file decides its encoding and delimiter.
const sniffBytes = 64 << 10

// textEncoding is how a CSV file's bytes become text.
type textEncoding uint8

const (
	encUTF8 textEncoding = iota
	encWindows1252
	encUTF16
)

type csvReader struct {
	name      string
	opts      Options
	closer    io.Closer
	guard     *recordGuard
	p         *csvParser
	enc       textEncoding
	header    []string
	headerRow int // the header's row number

	row     int  // row number of the last record read
	endLine int  // physical line on which the last record ended
	clean   bool // the last record's text is valid in its encoding, without NUL
	err     error

	out Record // the record Next returns, its slices reused with Options.ReuseRecord
}

func openCSV(path string, opts Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newCSVReader(f, path, opts, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// NewCSVReader reads CSV records from r; name appears in error messages.
//
// The encoding is decided from the first 64 KiB: UTF-8 with or without a byte
// order mark, UTF-16 with a byte order mark (Excel's "Unicode Text"), or, when
// those bytes are not valid UTF-8 and hold no valid multi-byte UTF-8 sequence,
// Windows-1252. The delimiter is the most frequent of comma, semicolon and
// tab outside quotes on the header line (comma on a tie). A cell written by
// NeutraliseFormula ('=..., '+..., ...) is read back without its apostrophe.
// Close on the returned Reader does not close r.
func NewCSVReader(r io.Reader, name string, opts Options) (Reader, error) {
	cr, err := newCSVReader(r, name, opts, nil)
	if err != nil {
		return nil, err
	}
	return cr, nil
}

func newCSVReader(src io.Reader, name string, opts Options, closer io.Closer) (*csvReader, error) {
	opts = opts.withDefaults()
	r := &csvReader{name: name, opts: opts, closer: closer}
	// A record may not pull more than this from the file: it bounds memory when a
	// quote is never closed or a line never ends. (A full row of full cells
	// of three-byte characters would be more, but no real row comes near.)
	limit := int64(opts.MaxCellChars)*int64(opts.MaxColumns) + 2*sniffBytes
	r.guard = &recordGuard{r: src, limit: limit}

	raw := bufio.NewReaderSize(r.guard, sniffBytes+16)
	head, err := raw.Peek(sniffBytes)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, r.fail(0, "", err)
	}
	if len(head) == 0 {
		return nil, &InputError{File: name, Err: ErrEmptyFile}
	}
	// A workbook saved under a .csv name would otherwise fail on some byte
	// of its binary content, with a message about quotes or encodings.
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, &InputError{File: name, Err: because(ErrMalformed,
			"this is an XLSX workbook (a zip file), not CSV text\nhint: rename it to .xlsx")}
	case bytes.HasPrefix(head, cfbMagic):
		return nil, &InputError{File: name, Err: because(ErrEncrypted,
			"this is an Excel .xls or password-protected workbook, not CSV text\nhint: open it in Excel and save it as \"CSV UTF-8\" or as .xlsx without a password")}
	}
	var text io.Reader = raw
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		raw.Discard(3)
		r.enc = encUTF8
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		r.enc = encUTF16
		text = transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case utf16Order(head) != "":
		// UTF-16 without a byte order mark (Gnumeric's "Unicode" export):
		// said here, before a quote next to a NUL fails as a quote error.
		return nil, &InputError{File: name, Err: because(ErrEncoding,
			"this is UTF-16 (%s) text without a byte order mark, not CSV text\nhint: save the file as \"CSV UTF-8\" (or as Unicode text, which has the mark)", utf16Order(head))}
	default:
		if looksWindows1252(head, len(head) == sniffBytes) {
			r.enc = encWindows1252
			text = transform.NewReader(raw, charmap.Windows1252.NewDecoder())
		}
	}
	if r.enc != encUTF8 {
		// Decode into a buffer that can be peeked again for the delimiter.
		text = bufio.NewReaderSize(text, sniffBytes+16)
	}
	br := text.(*bufio.Reader)
	sample, _ := br.Peek(sniffBytes)

	r.p = newCSVParser(br, sniffDelimiter(sample))

	for {
		rec, err := r.read()
		if err == io.EOF {
			if r.row == 0 && r.endLine == 0 {
				return nil, &InputError{File: name, Err: ErrEmptyFile}
			}
			return nil, &InputError{File: name, Err: because(ErrNoHeader, "no header row: every line is blank")}
		}
		if err != nil {
			return nil, err
		}
		if blankRow(rec) {
			continue
		}
		if err := r.checkText(rec, nil); err != nil {
			return nil, err
		}
		rec = slices.Clone(rec)
		for i := range rec {
			rec[i] = unneutralise(rec[i])
		}
		r.header, err = buildHeader(rec, opts.MaxColumns, opts.MaxCellChars, r.locate)
		if err != nil {
			return nil, err
		}
		r.headerRow = r.row
		return r, nil
	}
}

func (r *csvReader) Header() []string { return r.header }

func (r *csvReader) HeaderAt() (string, int) { return "", r.headerRow }

func (r *csvReader) Sheets() []string { return nil }

func (r *csvReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

func (r *csvReader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, err
}

func (r *csvReader) next() (Record, error) {
	for {
		rec, err := r.read()
		if err != nil {
			return Record{}, err
		}
		if blankRow(rec) {
			continue
		}
		if err := r.checkText(rec, r.header); err != nil {
			return Record{}, err
		}
		if err := checkRecord(r.header, rec, r.opts.MaxCellChars, r.locate); err != nil {
			return Record{}, err
		}
		out := &r.out
		if !r.opts.ReuseRecord || out.Fields == nil {
			out.Fields, out.Kinds = make([]string, len(r.header)), make([]CellKind, len(r.header))
		}
		out.Row = r.row
		for i := range out.Fields {
			out.Fields[i], out.Kinds[i] = "", Empty
			if i < len(rec) && rec[i] != "" {
				out.Fields[i], out.Kinds[i] = unneutralise(rec[i]), Text
			}
		}
		return *out, nil
	}
}

// read returns the next csv record (valid until the next read) and sets r.row
// to its row number.
func (r *csvReader) read() ([]string, error) {
	r.guard.reset()
	rec, clean, err := r.p.read(r.enc != encUTF8)
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, errRecordTooLong) {
			row := r.rowAt(pe.StartLine)
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				return nil, r.fail(row, "", because(ErrMalformed, "%v (line %d, byte %d)\nhint: a field that holds a quote, delimiter or line break must be quoted, with inner quotes doubled",
					pe.Err, pe.Line, pe.Column))
			}
			return nil, r.fail(row, "", because(ErrMalformed, "%v (line %d, byte %d)", pe.Err, pe.Line, pe.Column))
		}
		if errors.Is(err, errRecordTooLong) {
			return nil, r.fail(r.row+1, "", because(ErrTooLarge, "record longer than %d bytes (unclosed quote?)", r.guard.limit-2*sniffBytes))
		}
		return nil, r.fail(r.row+1, "", err)
	}
	r.row = r.rowAt(r.p.startLine)
	r.endLine = r.p.numLine
	r.clean = clean
	return rec, nil
}

// rowAt converts the physical line on which a record starts into its row
// number: blank lines count as rows, line breaks inside quotes do not.
func (r *csvReader) rowAt(line int) int {
	blank := line - r.endLine - 1
	if blank < 0 {
		blank = 0
	}
	return r.row + 1 + blank
}

// checkText refuses cells whose bytes were not valid in the file's encoding.
func (r *csvReader) checkText(rec, header []string) error {
	if r.clean {
		return nil // the parser saw the record's text whole
	}
	for i, c := range rec {
		bad := false
		switch r.enc {
		case encUTF8:
			bad = !utf8.ValidString(c)
		default:
			bad = strings.ContainsRune(c, utf8.RuneError)
		}
		nul := strings.IndexByte(c, 0) >= 0
		if !bad && !nul {
			continue
		}
		col := ""
		if header != nil {
			col = columnName(header, i)
		} else {
			col = columnLetters(i)
		}
		if nul && !bad {
			// No spreadsheet writes NUL into CSV: the file is binary, or
			// UTF-16 without a byte order mark (every other byte is NUL).
			return r.fail(r.row, col, because(ErrEncoding, "NUL byte: this is not CSV text, or it is UTF-16 without a byte order mark\nhint: save the file as \"CSV UTF-8\""))
		}
		switch r.enc {
		case encUTF8:
			return r.fail(r.row, col, because(ErrEncoding, "invalid UTF-8; the file mixes encodings\nhint: save the file as \"CSV UTF-8\""))
		case encWindows1252:
			return r.fail(r.row, col, because(ErrEncoding, "byte that is neither UTF-8 nor Windows-1252\nhint: save the file as \"CSV UTF-8\""))
		default:
			return r.fail(r.row, col, because(ErrEncoding, "invalid UTF-16\nhint: save the file as \"CSV UTF-8\""))
		}
	}
	return nil
}

func (r *csvReader) locate(column string, err error) error {
	return r.fail(r.row, column, err)
}

func (r *csvReader) fail(row int, column string, err error) error {
	return &InputError{File: r.name, Row: row, Column: column, Err: err}
}

// looksWindows1252 reports whether head, the start of a file, is not valid
// UTF-8 and holds no valid multi-byte UTF-8 sequence either. When cut is true
// head was cut at the sniff limit, so an incomplete last sequence is ignored.
func looksWindows1252(head []byte, cut bool) bool {
	invalid, multi := false, false
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n == 1 {
			if cut && len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				break
			}
			invalid = true
		} else {
			multi = true
		}
		i += n
	}
	return invalid && !multi
}

// utf16Order tells whether head looks like UTF-16 text without a byte order
// mark: most characters of a CSV header are ASCII, so every other byte is
// NUL, at odd offsets in little-endian, at even ones in big-endian, and
// never at the other. It returns "little-endian", "big-endian" or "".
func utf16Order(head []byte) string {
	var even, odd int
	for i, c := range head {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	pairs := len(head) / 2
	switch {
	case pairs == 0:
	case even == 0 && odd*4 >= pairs:
		return "little-endian"
	case odd == 0 && even*4 >= pairs:
		return "big-endian"
	}
	return ""
}

// sniffDelimiter picks the most frequent of , ; and tab outside quotes on the
// first line of sample.
func sniffDelimiter(sample []byte) byte {
	var comma, semi, tab int
	quoted := false
scan:
	for _, c := range sample {
		switch c {
		case '"':
			quoted = !quoted
		case '\n':
			if !quoted {
				break scan
			}
		case ',':
			if !quoted {
				comma++
			}
		case ';':
			if !quoted {
				semi++
			}
		case '\t':
			if !quoted {
				tab++
			}
		}
	}
	switch {
	case semi > comma && semi >= tab:
		return ';'
	case tab > comma && tab > semi:
		return '\t'
	}
	return ','
}

// formulaStart reports whether a spreadsheet would run a cell starting with c.
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// neutralised reports whether s, after its leading apostrophes, starts a formula.
func neutralised(s string) bool {
	i := 0
	for i < len(s) && s[i] == '\'' {
		i++
	}
	return i < len(s) && formulaStart(s[i])
}

// unneutralise undoes NeutraliseFormula.
func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && neutralised(s) {
		return s[1:]
	}
	return s
}

// errRecordTooLong is returned by recordGuard when one record pulls too much.
var errRecordTooLong = errors.New("record too long")

// recordGuard fails a read once more than limit bytes were read since the last reset.
type recordGuard struct {
	r     io.Reader
	n     int64
	limit int64
}

func (g *recordGuard) reset() { g.n = 0 }

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, errRecordTooLong
	}
	if rest := g.limit - g.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}
