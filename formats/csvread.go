package formats

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/formats/internal/sniff"
	"github.com/crmbatch/crmbatch/formats/internal/table"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a CSV file is looked at first: its type, its
// encoding when it holds a character that is not ASCII, its delimiter.
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
	text      *textDecoder // nil for UTF-16, decoded by x/text
	quotes    *quoteWatch
	cr        *csv.Reader
	header    []string
	headerRow int // the header's row number
	sepLines  int // 1 when a sep= line came first, which Excel hides

	row     int // row number of the last record read
	endLine int // line (of the text csv reads) on which the last record ended
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
// Records are split by encoding/csv with LazyQuotes, so that a quote inside
// a field that does not start with one is a character, as in Excel; around
// it are what a job file needs. The encoding: UTF-8 with or without a byte
// order mark, UTF-16 with a byte order mark (Excel's "Unicode Text"), or
// Windows-1252, decided by the first character that is not ASCII, wherever
// it is in the file. The delimiter: the one an Excel "sep=X" first line
// names (the line is skipped, as Excel hides it), else the most frequent of
// comma, semicolon and tab outside quotes on the header line (comma on a
// tie). Line ends: LF, CRLF, or CR alone (Excel for Mac's "CSV (Macintosh)")
// when the header line ends so. A cell ="..." is the text inside, as Excel
// shows it; a cell written by NeutraliseFormula ('=..., '+..., ...) is read
// back without its apostrophe. Close on the returned Reader does not close r.
func NewCSVReader(r io.Reader, name string, opts Options) (Reader, error) {
	cr, err := newCSVReader(r, name, opts, nil)
	if err != nil {
		return nil, err
	}
	return cr, nil
}

func newCSVReader(src io.Reader, name string, opts Options, closer io.Closer) (*csvReader, error) {
	opts = opts.WithDefaults()
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
	// A file of another kind under a CSV name would otherwise fail on some
	// byte of its content, with a message about quotes or encodings.
	if k := sniff.Binary(head); k.What != "" {
		sentinel := ErrMalformed
		if bytes.HasPrefix(head, []byte(sniff.OLEMagic)) {
			sentinel = ErrEncrypted
		}
		return nil, &InputError{File: name, Err: becauseFix(sentinel, k.Hint, "this is %s, not CSV text", k.What)}
	}
	text, br, err := r.decodeText(raw, head)
	if err != nil {
		return nil, err
	}
	sepLen := r.startRecords(text, br)
	if err := r.readHeader(sepLen); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeText chooses the file's encoding from head, its start, and returns
// text, what encoding/csv is to read, and br, a reader that can peek at its
// start: raw itself for UTF-8 and a start that is ASCII (the same bytes), a
// buffer of its own for decoded text.
func (r *csvReader) decodeText(raw *bufio.Reader, head []byte) (text io.Reader, br *bufio.Reader, err error) {
	br = raw
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		raw.Discard(3)
		r.text = &textDecoder{r: raw, enc: encUTF8, decided: true}
		text = r.text
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		br = bufio.NewReaderSize(transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), sniffBytes+16)
		text = br
	case sniff.UTF16Order(head) != "":
		// UTF-16 without a byte order mark (Gnumeric's "Unicode" export):
		// said here, before a NUL fails as an encoding error of a cell.
		return nil, nil, &InputError{File: r.name, Err: becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\" (or as Unicode text, which has the mark)",
			"this is UTF-16 (%s) text without a byte order mark, not CSV text", sniff.UTF16Order(head))}
	default:
		r.text = &textDecoder{r: raw}
		text = r.text
		if i := firstNonASCII(head); i >= 0 || len(head) < sniffBytes {
			// The start decides. Past it, the first character that is not
			// ASCII does: a file may be ASCII for its first 64 KiB.
			r.text.enc, r.text.decided = encUTF8, true
			if looksWindows1252(head, len(head) == sniffBytes) {
				r.text.enc = encWindows1252
				br = bufio.NewReaderSize(r.text, sniffBytes+16)
				text = br
			}
		}
	}
	return text, br, nil
}

// startRecords sets encoding/csv to read text: the delimiter from a sep=
// line (skipped; sepLen is its length) or sniffed from the header line,
// and CR-only line ends when the header line ends so.
func (r *csvReader) startRecords(text io.Reader, br *bufio.Reader) (sepLen int) {
	sample, _ := br.Peek(sniffBytes)
	comma, sepLen := sepLine(sample)
	if sepLen > 0 {
		br.Discard(sepLen)
		r.sepLines = 1
		sample = sample[sepLen:]
	} else {
		comma = rune(sniffDelimiter(sample))
	}
	lines := text
	if crOnly(sample) {
		lines = &crLines{r: text}
	}
	r.quotes = &quoteWatch{r: lines, comma: byte(comma), line: 1}
	// encoding/csv reads through a 64 KiB buffer, not its own 4 KiB one:
	// a long line is then gathered in fewer, larger pieces.
	r.cr = csv.NewReader(bufio.NewReaderSize(r.quotes, sniffBytes))
	r.cr.Comma = comma
	r.cr.FieldsPerRecord = -1
	r.cr.LazyQuotes = true
	r.cr.ReuseRecord = true
	return sepLen
}

// readHeader reads the first non-blank record as the header. A file with
// none is empty (nothing but a sep= line, when sepLen says there was one,
// is not) or has no header.
func (r *csvReader) readHeader(sepLen int) error {
	for {
		rec, err := r.read()
		if err == io.EOF {
			if r.row == 0 && r.endLine == 0 && sepLen == 0 {
				return &InputError{File: r.name, Err: ErrEmptyFile}
			}
			return &InputError{File: r.name, Err: because(ErrNoHeader, "no header row: every line is blank")}
		}
		if err != nil {
			return err
		}
		if table.BlankRow(rec) {
			continue
		}
		if err := r.checkText(rec, nil); err != nil {
			return err
		}
		rec = slices.Clone(rec)
		for i, c := range rec {
			if strings.ContainsAny(c, "\r\n") && !isBlank(c) {
				return r.fail(r.row, columnLetters(i), becauseFix(ErrMalformed, "open the file in Excel and save it as \"CSV UTF-8\"",
					"the header cell %s holds a line break (%.40q): the header swallowed lines of the file (a quote never closed, or line ends crmbatch does not know)",
					columnLetters(i), c))
			}
			rec[i] = excelText(c)
		}
		r.header, err = table.BuildHeader(rec, r.opts.MaxColumns, r.opts.MaxCellChars, r.locate)
		if err != nil {
			return err
		}
		r.headerRow = r.row
		return nil
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
		if table.BlankRow(rec) {
			continue
		}
		if err := r.checkText(rec, r.header); err != nil {
			return Record{}, err
		}
		if err := table.CheckRecord(r.header, rec, r.locate); err != nil {
			return Record{}, err
		}
		out := &r.out
		if !r.opts.ReuseRecord || out.Fields == nil {
			out.Fields, out.Kinds = make([]string, len(r.header)), make([]CellKind, len(r.header))
		}
		out.Row = r.row
		out.Problems = out.Problems[:0]
		for i := range out.Fields {
			out.Fields[i], out.Kinds[i] = "", Empty
			if i < len(rec) && rec[i] != "" {
				out.Fields[i], out.Kinds[i] = excelText(rec[i]), Text
			}
		}
		out.Problems = table.LongCells(out.Problems, out.Fields, r.row, r.opts.MaxCellChars)
		got := *out
		if len(got.Problems) == 0 {
			got.Problems = nil
		} else if !r.opts.ReuseRecord {
			out.Problems = nil
		}
		return got, nil
	}
}

// read returns the next csv record (valid until the next read) and sets r.row
// to its row number.
func (r *csvReader) read() ([]string, error) {
	r.guard.reset()
	rec, err := r.cr.Read()
	if err != nil {
		if err == io.EOF {
			if p := r.quotes.problem; p != nil {
				return nil, r.quoteError(p, r.row+1)
			}
			return nil, io.EOF
		}
		// The watch over the text saw it up to where it stopped: its
		// record's line and field are where the read stopped.
		q := r.quotes
		line, col := q.record, q.field
		if q.state == qRecord {
			line, col = q.line, 0
		}
		row := r.rowAt(line)
		name := columnLetters(col)
		if r.header != nil {
			name = table.ColumnName(r.header, col)
		}
		if errors.Is(err, errRecordTooLong) {
			return nil, r.fail(row, name, because(ErrTooLarge, "record longer than %d bytes (unclosed quote?)", r.guard.limit-2*sniffBytes))
		}
		if errors.Is(err, errNUL) {
			return nil, r.fail(row, name, becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\"", "NUL byte: this is not CSV text, or it is UTF-16 without a byte order mark"))
		}
		return nil, r.fail(r.row+1, "", err)
	}
	start, _ := r.cr.FieldPos(0)
	last, _ := r.cr.FieldPos(len(rec) - 1)
	r.row = r.rowAt(start)
	r.endLine = last + strings.Count(rec[len(rec)-1], "\n")
	if p := r.quotes.problem; p != nil && start >= p.record {
		return nil, r.quoteError(p, r.row)
	}
	return rec, nil
}

// quoteError says where a quoted cell ran over line breaks or to the end
// of the file, which Excel would read as other rows.
func (r *csvReader) quoteError(p *quoteProblem, row int) error {
	line := p.quote + r.sepLines
	col := columnLetters(p.field)
	if r.header != nil {
		col = table.ColumnName(r.header, p.field)
	}
	if p.unclosed {
		return r.fail(row, col, becauseFix(ErrMalformed, "close the quote, or double the quotes inside the cell (\"\")",
			"the quote that opens a cell on line %d is never closed: the rest of the file would be one cell", line))
	}
	return r.fail(row, col, becauseFix(ErrMalformed, "double the quotes inside the cell (\"\"), or close the cell with one",
		"a quote inside a quoted cell (line %d) is neither doubled nor at the cell's end, and the cell then runs over a line break: the rows that follow would be read into it", line))
}

// rowAt converts the line on which a record starts into its row number:
// blank lines count as rows, line breaks inside quotes do not.
func (r *csvReader) rowAt(line int) int {
	blank := line - r.endLine - 1
	if blank < 0 {
		blank = 0
	}
	return r.row + 1 + blank
}

// checkText refuses cells whose bytes were not valid in the file's encoding.
func (r *csvReader) checkText(rec, header []string) error {
	enc := encUTF16
	if r.text != nil {
		enc = r.text.enc
		if enc == encUTF8 && !r.text.dirty {
			return nil // every byte read so far is valid UTF-8, without NUL
		}
	}
	for i, c := range rec {
		bad := false
		switch enc {
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
			col = table.ColumnName(header, i)
		} else {
			col = columnLetters(i)
		}
		if nul && !bad {
			// No spreadsheet writes NUL into CSV: the file is binary, or
			// UTF-16 without a byte order mark (every other byte is NUL).
			return r.fail(r.row, col, becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\"", "NUL byte: this is not CSV text, or it is UTF-16 without a byte order mark"))
		}
		switch enc {
		case encUTF8:
			return r.fail(r.row, col, becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\"", "invalid UTF-8, in a file whose earlier text is UTF-8: the file mixes encodings"))
		case encWindows1252:
			return r.fail(r.row, col, becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\"", "byte that is neither UTF-8 nor Windows-1252"))
		default:
			return r.fail(r.row, col, becauseFix(ErrEncoding, "save the file as \"CSV UTF-8\"", "invalid UTF-16"))
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

// excelText is a cell as Excel shows it: ="..." is the text inside (the
// form billing systems write so that Excel keeps an ID as text), and a
// cell NeutraliseFormula escaped loses its apostrophe.
func excelText(s string) string {
	if u := unneutralise(s); len(u) != len(s) {
		return u
	}
	if len(s) >= 3 && s[0] == '=' && s[1] == '"' && s[len(s)-1] == '"' {
		inner := s[2 : len(s)-1]
		if !strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			return strings.ReplaceAll(inner, `""`, `"`)
		}
	}
	return s
}

// sepLine reads Excel's delimiter hint: a first line "sep=X". It returns
// the delimiter and the length of the line with its line end, or 0.
func sepLine(sample []byte) (rune, int) {
	if len(sample) < 5 || !bytes.EqualFold(sample[:4], []byte("sep=")) {
		return 0, 0
	}
	c, n := utf8.DecodeRune(sample[4:])
	if !validComma(c) {
		return 0, 0
	}
	end := 4 + n
	rest := sample[end:]
	switch {
	case len(rest) == 0:
	case bytes.HasPrefix(rest, []byte("\r\n")):
		end += 2
	case rest[0] == '\n', rest[0] == '\r':
		end++
	default:
		return 0, 0
	}
	return c, end
}

// validComma reports whether c may be the delimiter a sep= line names:
// an ASCII character other than a quote, a line end or NUL.
func validComma(c rune) bool {
	return c > 0 && c < utf8.RuneSelf && c != '"' && c != '\r' && c != '\n'
}

// crOnly reports whether the header line of sample ends in a CR that no LF
// follows: the file's line ends are CR alone, as Excel for Mac's "CSV
// (Macintosh)" writes them.
func crOnly(sample []byte) bool {
	quoted := false
	for i, c := range sample {
		switch c {
		case '"':
			quoted = !quoted
		case '\n':
			if !quoted {
				return false
			}
		case '\r':
			if !quoted {
				return i+1 < len(sample) && sample[i+1] != '\n'
			}
		}
	}
	return false
}

// crLines turns CR line ends into LF, and CRLF into LF, for a file whose
// lines end in CR alone.
type crLines struct {
	r      io.Reader
	prevCR bool // the last byte read was a CR, now an LF
}

func (c *crLines) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := 0
		for _, b := range p[:n] {
			switch {
			case b == '\n' && c.prevCR:
				c.prevCR = false
				continue // the LF of a CRLF, already given
			case b == '\r':
				b, c.prevCR = '\n', true
			default:
				c.prevCR = false
			}
			p[w] = b
			w++
		}
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
	}
}

// quoteProblem is where a quoted cell would make encoding/csv (with
// LazyQuotes) read rows other than Excel's: the line of the record it is
// in and of the quote.
type quoteProblem struct {
	record, quote int
	field         int  // the cell's index in its record
	unclosed      bool // the file ends inside the quotes
}

// quoteWatch watches the text encoding/csv reads, with encoding/csv's own
// rules for quotes, for the two cases where LazyQuotes would read other
// rows than Excel: a quote inside a quoted cell that neither is doubled nor
// ends the cell (LazyQuotes keeps it and stays inside the quotes, Excel
// leaves them) followed by a line break inside those quotes, and a quote
// that is never closed. It sees the text before encoding/csv returns the
// record, so the record can be refused.
type quoteWatch struct {
	r     io.Reader
	comma byte
	state quoteState
	lazy  bool // the quoted cell holds a quote LazyQuotes kept
	line  int
	field int // the index of the current field in its record
	// record is the line the current record starts on, quote the line of
	// the quote that opened the current quoted cell.
	record, quote int
	problem       *quoteProblem
}

type quoteState uint8

const (
	qRecord  quoteState = iota // before a record's first byte
	qField                     // at the start of a field
	qPlain                     // in a field that does not start with a quote
	qQuoted                    // inside quotes
	qQuote                     // a quote inside quotes: doubled, the cell's end or kept
	qQuoteCR                   // a quote and CR inside quotes
)

func (q *quoteWatch) Read(p []byte) (int, error) {
	n, err := q.r.Read(p)
	if q.problem == nil {
		q.watch(p[:n])
		if err == io.EOF && q.problem == nil && q.state == qQuoted {
			q.problem = &quoteProblem{record: q.record, quote: q.quote, field: q.field, unclosed: true}
		}
	}
	return n, err
}

// watch follows b, the next bytes encoding/csv reads, through the quote
// states, and sets q.problem at the first quote Excel would read otherwise.
func (q *quoteWatch) watch(b []byte) {
	if q.state <= qPlain && bytes.IndexByte(b, '"') < 0 {
		q.skipUnquoted(b)
		return
	}
	for i := 0; i < len(b); i++ {
		switch q.state {
		case qRecord, qField:
			i = q.fieldStart(b, i)
		case qPlain:
			q.plain(b[i])
		case qQuoted:
			var stop bool
			if i, stop = q.quoted(b, i); stop {
				return
			}
		case qQuote, qQuoteCR:
			if q.afterQuote(b[i]) {
				i-- // the byte is inside the quotes
			}
		}
	}
}

// skipUnquoted follows b, which holds no quote and starts outside quotes:
// only where lines and fields start matters, to say where a quote that
// comes later opened.
func (q *quoteWatch) skipUnquoted(b []byte) {
	q.line += bytes.Count(b, []byte{'\n'})
	rest := b
	if k := bytes.LastIndexByte(b, '\n'); k >= 0 {
		q.state, rest = qRecord, b[k+1:]
		if len(rest) > 0 {
			q.record, q.field = q.line, 0
		}
	}
	if len(rest) > 0 {
		q.field += bytes.Count(rest, []byte{q.comma})
		q.state = qPlain
		if rest[len(rest)-1] == q.comma {
			q.state = qField
		}
	}
}

// fieldStart reads b[i], the first byte of a record or a field, and returns
// the index of the last byte it read (a plain field is skipped to its end).
func (q *quoteWatch) fieldStart(b []byte, i int) int {
	c := b[i]
	if c == '\n' {
		q.line++
		q.state = qRecord
		return i
	}
	if q.state == qRecord {
		q.record, q.field = q.line, 0
	}
	switch c {
	case '"':
		q.state, q.quote, q.lazy = qQuoted, q.line, false
	case q.comma:
		q.state = qField
		q.field++
	default:
		q.state = qPlain
		// Jump to the field's end: only a delimiter or line end matters.
		j := indexEither(b[i+1:], q.comma, '\n')
		if j < 0 {
			return len(b) - 1
		}
		return i + j
	}
	return i
}

// plain reads c inside a field that does not start with a quote.
func (q *quoteWatch) plain(c byte) {
	switch c {
	case '\n':
		q.line++
		q.state = qRecord
	case q.comma:
		q.state = qField
		q.field++
	}
}

// quoted reads b[i] inside quotes and returns the index of the last byte
// it read; stop says a line break came after a quote LazyQuotes kept: the
// problem is found.
func (q *quoteWatch) quoted(b []byte, i int) (int, bool) {
	switch b[i] {
	case '"':
		q.state = qQuote
	case '\n':
		q.line++
		if q.lazy {
			q.problem = &quoteProblem{record: q.record, quote: q.quote, field: q.field}
			return i, true
		}
	default:
		j := indexEither(b[i+1:], '"', '\n')
		if j < 0 {
			return len(b) - 1, false
		}
		return i + j, false
	}
	return i, false
}

// afterQuote reads c after a quote inside quotes (and a CR after it): a
// second quote, the cell's end, or a quote LazyQuotes keeps. inside says c
// is back inside the quotes, to be read there.
func (q *quoteWatch) afterQuote(c byte) (inside bool) {
	switch {
	case c == '"' && q.state == qQuote:
		q.state = qQuoted
	case c == q.comma && q.state == qQuote:
		q.state = qField
		q.field++
	case c == '\n':
		q.line++
		q.state = qRecord
	case c == '\r' && q.state == qQuote:
		q.state = qQuoteCR
	default:
		q.state, q.lazy = qQuoted, true
		return true
	}
	return false
}

// indexEither is the index of the first a or b in s, or -1.
func indexEither(s []byte, a, b byte) int {
	i := bytes.IndexByte(s, a)
	j := bytes.IndexByte(s, b)
	switch {
	case i < 0:
		return j
	case j < 0 || i < j:
		return i
	}
	return j
}

// textDecoder gives the text of a file that is UTF-8 or Windows-1252:
// until it is decided, ASCII passes through and the first byte that is not
// ASCII decides (a valid multi-byte UTF-8 sequence: UTF-8; else
// Windows-1252).
type textDecoder struct {
	r       *bufio.Reader
	enc     textEncoding
	decided bool
	raw     []byte // Windows-1252 bytes read, not yet decoded
	out     []byte // decoded text not yet given
	err     error  // the error that came with the last bytes read
	// dirty says UTF-8 text read so far held an invalid sequence (or a
	// sequence cut between two reads): cells must be checked.
	dirty bool
	// nul says a NUL byte came: the text stops before it, and the next
	// Read says errNUL. No spreadsheet writes one: the file is binary (a
	// sparse file of 2 GB is refused at its first NUL, not read 32 MiB
	// into a record).
	nul bool
}

// errNUL is what textDecoder says at a NUL byte.
var errNUL = errors.New("NUL byte")

// stopAtNUL cuts b before its first NUL and notes it.
func (d *textDecoder) stopAtNUL(b []byte) int {
	if k := bytes.IndexByte(b, 0); k >= 0 {
		d.nul = true
		return k
	}
	return len(b)
}

func (d *textDecoder) Read(p []byte) (int, error) {
	if d.nul {
		return 0, errNUL
	}
	if d.decided && d.enc == encUTF8 {
		n, err := d.r.Read(p)
		if n = d.stopAtNUL(p[:n]); d.nul {
			err = nil
		}
		if !d.dirty && !utf8.Valid(p[:n]) {
			d.dirty = true // perhaps only a sequence cut between two reads
		}
		return n, err
	}
	if !d.decided {
		n, err := d.r.Read(p)
		if n = d.stopAtNUL(p[:n]); d.nul {
			err = nil
		}
		i := firstNonASCII(p[:n])
		if i < 0 {
			return n, err
		}
		d.decided = true
		rest := p[i:n]
		if !utf8.FullRune(rest) {
			// The sequence goes on in what is still to read.
			more, _ := d.r.Peek(utf8.UTFMax - len(rest))
			rest = append(slices.Clone(rest), more...)
		}
		if r, size := utf8.DecodeRune(rest); r != utf8.RuneError || size > 1 {
			d.enc = encUTF8
			d.dirty = !utf8.Valid(p[:n])
			return n, err
		}
		d.enc = encWindows1252
		d.out = decode1252(d.out[:0], p[i:n])
		d.err = err
		if i > 0 {
			return i, nil
		}
	}
	// Windows-1252: a byte is one character of up to three bytes of UTF-8.
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.raw == nil {
			d.raw = make([]byte, 16<<10)
		}
		n, err := d.r.Read(d.raw)
		if n = d.stopAtNUL(d.raw[:n]); d.nul {
			err = errNUL
		}
		d.out, d.err = decode1252(d.out[:0], d.raw[:n]), err
		if n == 0 && err == nil {
			return 0, nil
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// decode1252 appends the Windows-1252 text b to dst as UTF-8.
func decode1252(dst, b []byte) []byte {
	for _, c := range b {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			continue
		}
		dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(c))
	}
	return dst
}

// firstNonASCII is the index of the first byte of b that is not ASCII, or -1.
func firstNonASCII(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
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
		case '\n', '\r':
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
