// Package xmlscan is a pull tokenizer for the XML of SpreadsheetML parts,
// working in place over one buffer. The XLSX reader uses it for the sheet
// and the shared strings, the two parts that grow with the data:
// encoding/xml's RawToken costs a function call per byte and an allocation
// per token and per attribute (about 40 allocations a row), the scanner
// none per token. It checks what RawToken checks, and FuzzXMLScanner
// compares the two token by token.
package xmlscan

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/crmbatch/crmbatch/formats/internal/table"
)

// Token is the kind of token Scanner.Next returns.
type Token uint8

const (
	Text  Token = iota + 1 // character data (text or a CDATA section)
	Start                  // a start tag; a self-closing one is followed by its End
	End                    // an end tag
)

// Attr is an attribute of the start tag just scanned: its local name and
// its decoded value.
type Attr struct {
	Name, Value []byte
}

// Scanner is a pull tokenizer for the XML that SpreadsheetML parts use:
// start and end tags with attributes, text with the five predefined entities
// and character references, CDATA sections, comments, processing
// instructions and directives (skipped). It checks well-formedness as
// encoding/xml's RawToken does — names, quoted attribute values, entities,
// UTF-8, the characters XML 1.0 allows, line-end normalisation, and that a
// declared encoding is UTF-8 — but, like RawToken, not that end tags match
// start tags. Names are given without their namespace prefix.
//
// It works in place over one buffer: a token is always whole in the buffer
// (the buffer grows for a longer token), and the slices it returns (name,
// attrs, text) are valid only until the next call.
type Scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread input is buf[pos:end]
	rerr     error // the error that ended reading, io.EOF at the end

	name      []byte // Start, End: the local name
	attrs     []Attr // Start: the attributes
	text      []byte // Text: the decoded text
	closeNext bool   // the last start tag was self-closing: its end comes next

	dec  []byte // decoded text, when it differs from the input
	adec []byte // decoded attribute values of the current tag

	// Limit, when positive, bounds the buffer: a token (a tag, a text, a
	// comment, a directive) that does not fit fails with ErrTooLarge instead
	// of growing the buffer to the size of the part.
	Limit int
}

// initialBuffer is the scanner's initial buffer size.
const initialBuffer = 64 << 10

// syntaxError is malformed XML.
type syntaxError string

func (e syntaxError) Error() string { return "XML syntax error: " + string(e) }

var errXMLEOF = syntaxError("unexpected EOF")

// Name is the local name of the tag Next returned (Start, End).
func (s *Scanner) Name() []byte { return s.name }

// Attrs are the attributes of the start tag Next returned.
func (s *Scanner) Attrs() []Attr { return s.attrs }

// Text is the decoded text Next returned.
func (s *Scanner) Text() []byte { return s.text }

// New returns a Scanner reading r.
func New(r io.Reader) *Scanner {
	return &Scanner{r: r, buf: make([]byte, initialBuffer)}
}

// fill reads more input, keeping the unread bytes (moved to the start of the
// buffer, which doubles when they fill it). It reports whether anything was
// read; when not, s.rerr says why.
func (s *Scanner) fill() bool {
	if s.rerr != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if s.Limit > 0 && len(s.buf) >= s.Limit {
			s.rerr = table.Because(table.ErrTooLarge, "an XML tag, text or comment longer than %d bytes", len(s.buf))
			return false
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// cut is the error for input that ends inside a token.
func (s *Scanner) cut() error {
	if s.rerr == nil || s.rerr == io.EOF {
		return errXMLEOF
	}
	return s.rerr
}

// Next scans the next token. It returns io.EOF when the input ends between
// tokens, and a syntax error or the reader's error otherwise.
func (s *Scanner) Next() (Token, error) {
	if s.closeNext {
		s.closeNext = false
		return End, nil
	}
	for {
		if s.pos >= s.end && !s.fill() {
			return 0, s.rerr
		}
		if s.buf[s.pos] != '<' {
			return s.readText()
		}
		tok, err := s.readMarkup()
		if tok != 0 || err != nil {
			return tok, err
		}
		// a comment, processing instruction or directive: skipped
	}
}

// readText scans the text up to the next '<' or the end of the input.
func (s *Scanner) readText() (Token, error) {
	i := s.pos
	for {
		if j := bytes.IndexByte(s.buf[i:s.end], '<'); j >= 0 {
			i += j
			break
		}
		off := s.end - s.pos
		if !s.fill() {
			if s.rerr != io.EOF {
				return 0, s.rerr
			}
			i = s.end
			break
		}
		i = s.pos + off
	}
	raw := s.buf[s.pos:i]
	s.pos = i
	if plainText(raw) {
		s.text = raw
		return Text, nil
	}
	if bytes.Contains(raw, []byte("]]>")) {
		return 0, syntaxError("unescaped ]]> not in CDATA section")
	}
	var err error
	if s.dec, err = appendXMLText(s.dec[:0], raw, true); err != nil {
		return 0, err
	}
	s.text = s.dec
	return Text, nil
}

// readMarkup scans the markup at s.pos. It returns a zero token for markup
// that is skipped.
func (s *Scanner) readMarkup() (Token, error) {
	if s.end-s.pos < 2 && !s.need(2) {
		return 0, s.cut()
	}
	switch s.buf[s.pos+1] {
	case '?':
		return 0, s.skipProcInst()
	case '!':
		return s.readBang()
	}
	for {
		var n int
		var err error
		tok := Start
		if s.buf[s.pos+1] == '/' {
			tok = End
			n, err = s.parseEnd(s.buf[s.pos:s.end])
		} else {
			n, err = s.parseStart(s.buf[s.pos:s.end])
		}
		if err == nil {
			s.pos += n
			return tok, nil
		}
		if err != errIncomplete {
			return 0, err
		}
		if !s.more() {
			return 0, s.cut()
		}
	}
}

// errIncomplete says that a tag goes on past the bytes read so far.
var errIncomplete = syntaxError("incomplete tag")

// more reads until the unread bytes double, so that retrying a long tag
// costs linear time; false when nothing more comes.
func (s *Scanner) more() bool {
	want, got := 2*(s.end-s.pos), false
	for s.end-s.pos < want {
		if !s.fill() {
			return got
		}
		got = true
	}
	return true
}

// need reads until n bytes are unread; false when the input ends first.
func (s *Scanner) need(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// find returns the offset from s.pos of the first seq at or after off,
// reading more input as needed.
func (s *Scanner) find(off int, seq string) (int, error) {
	for {
		if j := bytes.Index(s.buf[s.pos+off:s.end], []byte(seq)); j >= 0 {
			return off + j, nil
		}
		off = max(off, s.end-s.pos-len(seq)+1)
		if !s.fill() {
			return 0, s.cut()
		}
	}
}

// parseStart parses the start tag at the beginning of t,
// "<name attr="value" ...>" or ".../>", and returns its length;
// errIncomplete when t ends first.
func (s *Scanner) parseStart(t []byte) (int, error) {
	name, local, i := scanName(t, 1)
	if i >= len(t) {
		return 0, errIncomplete
	}
	if name == nil || local == nil {
		return 0, syntaxError("expected element name after <")
	}
	s.name = local
	s.attrs, s.adec = s.attrs[:0], s.adec[:0]
	for {
		if i = skipSpace(t, i); i >= len(t) {
			return 0, errIncomplete
		}
		switch t[i] {
		case '>':
			return i + 1, nil
		case '/':
			if i+1 >= len(t) {
				return 0, errIncomplete
			}
			if t[i+1] != '>' {
				return 0, syntaxError("expected /> in element")
			}
			s.closeNext = true
			return i + 2, nil
		}
		an, local, j := scanName(t, i)
		if j >= len(t) {
			return 0, errIncomplete
		}
		if an == nil || local == nil {
			return 0, syntaxError("expected attribute name in element")
		}
		if i = skipSpace(t, j); i >= len(t) {
			return 0, errIncomplete
		}
		if t[i] != '=' {
			return 0, syntaxError("attribute name without = in element")
		}
		if i = skipSpace(t, i+1); i >= len(t) {
			return 0, errIncomplete
		}
		q := t[i]
		if q != '"' && q != '\'' {
			return 0, syntaxError("unquoted or missing attribute value in element")
		}
		j = bytes.IndexByte(t[i+1:], q)
		if j < 0 {
			return 0, errIncomplete
		}
		raw := t[i+1 : i+1+j]
		i += j + 2
		val := raw
		if !plainText(raw) {
			if bytes.IndexByte(raw, '<') >= 0 {
				return 0, syntaxError("unescaped < inside quoted string")
			}
			start := len(s.adec)
			var err error
			if s.adec, err = appendXMLText(s.adec, raw, true); err != nil {
				return 0, err
			}
			val = s.adec[start:]
		}
		s.attrs = append(s.attrs, Attr{Name: local, Value: val})
	}
}

// parseEnd parses the end tag "</name>" at the beginning of t and returns
// its length; errIncomplete when t ends first.
func (s *Scanner) parseEnd(t []byte) (int, error) {
	name, local, i := scanName(t, 2)
	if i >= len(t) {
		return 0, errIncomplete
	}
	if name == nil || local == nil {
		return 0, syntaxError("expected element name after </")
	}
	s.name = local
	if i = skipSpace(t, i); i >= len(t) {
		return 0, errIncomplete
	}
	if t[i] != '>' {
		return 0, syntaxError("invalid characters between </" + string(local) + " and >")
	}
	return i + 1, nil
}

// skipProcInst skips "<?target ...?>", checking that an XML declaration
// declares version 1.0 and UTF-8, as encoding/xml requires.
func (s *Scanner) skipProcInst() error {
	e, err := s.find(2, "?>")
	if err != nil {
		return err
	}
	pi := s.buf[s.pos+2 : s.pos+e]
	s.pos += e + 2
	target, _, i := scanName(pi, 0)
	if target == nil {
		return syntaxError("expected target name after <?")
	}
	if string(target) != "xml" {
		return nil
	}
	content := string(pi[i:])
	if v := declParam(content, "version"); v != "" && v != "1.0" {
		return syntaxError("unsupported version " + v + "; only version 1.0 is supported")
	}
	if enc := declParam(content, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return syntaxError("encoding " + enc + " declared; only UTF-8 is supported")
	}
	return nil
}

// declParam returns the value of param="value" in an XML declaration.
func declParam(s, param string) string {
	for {
		k := strings.Index(s, param+"=")
		if k < 0 || k+len(param)+1 >= len(s) {
			return ""
		}
		s = s[k+len(param)+1:]
		if q := s[0]; q == '"' || q == '\'' {
			if j := strings.IndexByte(s[1:], q); j >= 0 {
				return s[1 : 1+j]
			}
			return ""
		}
	}
}

// readBang scans a comment or a directive (skipped) or a CDATA section (text).
func (s *Scanner) readBang() (Token, error) {
	if !s.need(3) {
		return 0, s.cut()
	}
	switch s.buf[s.pos+2] {
	case '-':
		if !s.need(4) {
			return 0, s.cut()
		}
		if s.buf[s.pos+3] != '-' {
			return 0, syntaxError("invalid sequence <!- not part of <!--")
		}
		e, err := s.find(4, "--")
		if err != nil {
			return 0, err
		}
		if !s.need(e + 3) {
			return 0, s.cut()
		}
		if s.buf[s.pos+e+2] != '>' {
			return 0, syntaxError(`invalid sequence "--" not allowed in comments`)
		}
		s.pos += e + 3
		return 0, nil
	case '[':
		const open = "<![CDATA["
		if !s.need(len(open)) {
			return 0, s.cut()
		}
		if string(s.buf[s.pos:s.pos+len(open)]) != open {
			return 0, syntaxError("invalid <![ sequence")
		}
		e, err := s.find(len(open), "]]>")
		if err != nil {
			return 0, syntaxError("unexpected EOF in CDATA section")
		}
		raw := s.buf[s.pos+len(open) : s.pos+e]
		s.pos += e + 3
		if plainText(raw) {
			s.text = raw
			return Text, nil
		}
		if s.dec, err = appendXMLText(s.dec[:0], raw, false); err != nil {
			return 0, err
		}
		s.text = s.dec
		return Text, nil
	}
	return 0, s.skipDirective()
}

// skipDirective skips a directive such as <!DOCTYPE ...> as encoding/xml
// does: to the first '>' outside quotes that closes as many '<' as came
// before it, skipping comments; the byte after "<!" is taken as it is.
func (s *Scanner) skipDirective() error {
	off, depth := 3, 0
	var quote byte
	for {
		if !s.need(off + 1) {
			return s.cut()
		}
		c := s.buf[s.pos+off]
		off++
		switch {
		case quote == 0 && c == '>' && depth == 0:
			s.pos += off
			return nil
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			k := 0
			for ; k < 3; k++ {
				if !s.need(off + k + 1) {
					return s.cut()
				}
				if s.buf[s.pos+off+k] != "!--"[k] {
					break
				}
			}
			if k < 3 {
				depth++
				continue
			}
			e, err := s.find(off+3, "-->")
			if err != nil {
				return err
			}
			off = e + 3
		}
	}
}

// plainText reports whether raw decodes to itself: ASCII without markup
// characters, '\r' or control characters.
func plainText(raw []byte) bool {
	for _, c := range raw {
		if c < 0x20 && c != '\t' && c != '\n' || c >= utf8.RuneSelf || c == '&' || c == ']' || c == '<' {
			return false
		}
	}
	return true
}

// appendXMLText appends raw decoded: entities and character references
// replaced (when entities is set; not in CDATA), "\r\n" and "\r" turned into
// "\n". It fails on a bad entity, invalid UTF-8 or a character XML forbids.
func appendXMLText(dst, raw []byte, entities bool) ([]byte, error) {
	start := len(dst)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '&' && entities:
			r, n, err := parseEntity(raw[i:])
			if err != nil {
				return dst, err
			}
			dst = utf8.AppendRune(dst, r)
			i += n
		case c == '\r':
			dst = append(dst, '\n')
			if i++; i < len(raw) && raw[i] == '\n' {
				i++
			}
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, checkXMLChars(dst[start:])
}

// parseEntity decodes the entity or character reference that starts s and
// returns the character and the entity's length.
func parseEntity(s []byte) (rune, int, error) {
	end := bytes.IndexByte(s, ';')
	if end < 0 {
		n := 1
		for n < len(s) && n < 16 && (isNameByte(s[n]) || s[n] == '#') {
			n++
		}
		return 0, 0, syntaxError("invalid character entity " + string(s[:n]) + " (no semicolon)")
	}
	ent := s[1:end]
	bad := func() (rune, int, error) {
		return 0, 0, syntaxError("invalid character entity &" + string(ent) + ";")
	}
	switch string(ent) {
	case "lt":
		return '<', end + 1, nil
	case "gt":
		return '>', end + 1, nil
	case "amp":
		return '&', end + 1, nil
	case "apos":
		return '\'', end + 1, nil
	case "quot":
		return '"', end + 1, nil
	}
	if len(ent) < 2 || ent[0] != '#' {
		return bad()
	}
	digits, base := ent[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return bad()
	}
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return bad()
		}
		if r = r*base + d; r > utf8.MaxRune {
			return bad()
		}
	}
	return r, end + 1, nil
}

// checkXMLChars fails on invalid UTF-8 and on characters outside XML 1.0's Char.
func checkXMLChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return syntaxError("illegal character code " + runeCode(rune(c)))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return syntaxError("invalid UTF-8")
		}
		if r == 0xFFFE || r == 0xFFFF {
			return syntaxError("illegal character code " + runeCode(r))
		}
		i += n
	}
	return nil
}

// runeCode formats r as U+XXXX.
func runeCode(r rune) string {
	const hex = "0123456789ABCDEF"
	return "U+" + string([]byte{hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15]})
}

// scanName returns the name at t[i:], its local part and the offset after
// it. name is nil when there is none; local is nil when the name has more
// than one colon, and the whole name when the colon starts or ends it, as
// in encoding/xml. A name starts with a letter, '_', ':' or a non-ASCII
// character.
func scanName(t []byte, i int) (name, local []byte, next int) {
	if i >= len(t) {
		return nil, nil, i
	}
	if c := t[i] | 0x20; c < utf8.RuneSelf && (c < 'a' || c > 'z') && t[i] != '_' && t[i] != ':' {
		return nil, nil, i
	}
	j, ascii, colon, colons := i, true, 0, 0
	for ; j < len(t); j++ {
		c := t[j]
		if c >= utf8.RuneSelf {
			ascii = false
		} else if !isNameByte(c) {
			break
		} else if c == ':' {
			colon, colons = j, colons+1
		}
	}
	if !ascii && j < len(t) && !utf8.Valid(t[i:j]) {
		return nil, nil, i // at the end of t the name may go on
	}
	name = t[i:j]
	switch {
	case colons == 0 || colon == i || colon == j-1 && colons == 1:
		return name, name, j
	case colons == 1:
		return name, t[colon+1 : j], j
	}
	return name, nil, j
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func skipSpace(t []byte, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r') {
		i++
	}
	return i
}
