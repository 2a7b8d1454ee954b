package xmlscan

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll renders the tokens of Scanner over r, text runs merged, as
// lines; err is the error that stopped it (nil at io.EOF).
func scanAll(r io.Reader) (string, error) {
	s := New(r)
	var b strings.Builder
	var text []byte
	flush := func() {
		if len(text) > 0 {
			fmt.Fprintf(&b, "text %q\n", text)
			text = text[:0]
		}
	}
	for {
		tok, err := s.Next()
		if err == io.EOF {
			flush()
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		switch tok {
		case Text:
			text = append(text, s.Text()...)
		case Start:
			flush()
			fmt.Fprintf(&b, "start %s", s.Name())
			for _, a := range s.Attrs() {
				fmt.Fprintf(&b, " %s=%q", a.Name, a.Value)
			}
			b.WriteByte('\n')
		case End:
			flush()
			fmt.Fprintf(&b, "end %s\n", s.Name())
		}
	}
}

// rawTokens renders what encoding/xml's RawToken gives, as scanAll does.
func rawTokens(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var b strings.Builder
	var text []byte
	flush := func() {
		if len(text) > 0 {
			fmt.Fprintf(&b, "text %q\n", text)
			text = text[:0]
		}
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			flush()
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			flush()
			fmt.Fprintf(&b, "start %s", t.Name.Local)
			for _, a := range t.Attr {
				fmt.Fprintf(&b, " %s=%q", a.Name.Local, a.Value)
			}
			b.WriteByte('\n')
		case xml.EndElement:
			flush()
			fmt.Fprintf(&b, "end %s\n", t.Name.Local)
		}
	}
}

// asciiMarkup reports whether every name-like byte run in data is ASCII:
// encoding/xml checks non-ASCII names against Unicode tables, which the
// scanner does not.
func asciiMarkup(data []byte) bool {
	return bytes.IndexFunc(data, func(r rune) bool { return r >= 0x80 }) < 0
}

var xmlSeeds = []string{
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet xmlns="m" xmlns:r="r"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`,
	`<x:row x:r="2"><x:c r='B2' t="inlineStr"><x:is><x:t xml:space="preserve"> a &amp; b &lt;&gt; &quot;&apos; &#65;&#x42;&#x1F600; </x:t></x:is></x:c></x:row>`,
	"<t>line\r\nbreak\rcr&#13;\n</t>",
	`<t><![CDATA[a <b> & ]] c]]></t><!-- comment - here --><?pi data?>`,
	`<!DOCTYPE x [<!ENTITY e "v">]><a b="x>y" c='"'/>`,
	`<a>]]></a>`, `<a>&bogus;</a>`, `<a>&amp</a>`, `<a b=c/>`, `<a b></a>`, `</a b>`, `<a:b:c/>`, `<:a/>`, `<a:/>`,
	`<a b="<"/>`, "<a>\x01</a>", "<a>\xff</a>", "<a>\uFFFE</a>", `<a>&#0;</a>`, `<a>&#xD800;</a>`, `<a>&#x110000;</a>`,
	`<?xml version="1.1"?><a/>`, `<?xml encoding="UTF-16"?><a/>`, `<!-- a -- b -->`, `<!- x>`, `<![CDAT[x]]>`,
	"<\u0246>", `<!>`, `<!0<>>`, `<!x<a>>`, `<!x <!-- > --> >`, `<!x <!- > >`, `<!"a>`, `<a`, `<a b="1`, `<a/`, `</a`, `<!--x`, `<![CDATA[x`, `<?x`, `<!DOCTYPE x`, `<a b = "1" / >`, `<a  b = '1' >`,
}

// TestXMLScannerMatchesEncodingXML compares the scanner with encoding/xml's
// RawToken on the seeds, read whole and one byte at a time.
func TestXMLScannerMatchesEncodingXML(t *testing.T) {
	t.Parallel()
	for _, in := range xmlSeeds {
		compareScanners(t, []byte(in))
	}
}

func FuzzXMLScanner(f *testing.F) {
	for _, s := range xmlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareScanners(t, data)
	})
}

func compareScanners(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := rawTokens(data)
	got, gotErr := scanAll(bytes.NewReader(data))
	byByte, byByteErr := scanAll(iotest.OneByteReader(bytes.NewReader(data)))
	if got != byByte || (gotErr == nil) != (byByteErr == nil) {
		t.Fatalf("%q: whole and byte by byte differ:\n%s%v\n---\n%s%v", data, got, gotErr, byByte, byByteErr)
	}
	if wantErr != nil && gotErr == nil && !asciiMarkup(data) {
		return // a non-ASCII name that encoding/xml's tables refuse
	}
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: encoding/xml says %v, the scanner %v", data, wantErr, gotErr)
	}
	if wantErr == nil && got != want {
		t.Fatalf("%q: tokens differ:\nencoding/xml:\n%s\nscanner:\n%s", data, want, got)
	}
}
