// Package sniff tells what a file is from its first bytes when it is not
// what its name says: an image, a PDF, a zip (a workbook, an OpenDocument
// spreadsheet, a Word document), an OLE file, gzip, RTF. Both job-file
// readers use it, so that a file of the wrong kind is refused naming what
// it is, with what to do, before some byte of it fails as bad CSV or as a
// broken workbook.
package sniff

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// OLEMagic starts an OLE compound file: an encrypted OOXML workbook or a legacy .xls.
const OLEMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"

// Kind is what a file's first bytes say it is, when it is no text.
type Kind struct {
	What string // "a PNG image"
	Hint string // what to do about it, for a job file
}

// Binary names what head, the start of a file, is when its first bytes
// say it is some other kind of file than text: an image, a PDF, a zip
// archive (a workbook, a Word document or another), an OLE file, a
// compressed file. It returns the zero Kind for anything else, text
// included.
func Binary(head []byte) Kind {
	const save = "open it in Excel and save it as \"CSV UTF-8\" or as .xlsx"
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return Kind{"a PNG image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return Kind{"a JPEG image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return Kind{"a GIF image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return Kind{"a PDF document", "a PDF holds no rows crmbatch can read: export the job as CSV or .xlsx from the program that made the PDF"}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip(head)
	case bytes.HasPrefix(head, []byte(OLEMagic)):
		return Kind{"an Excel .xls or password-protected workbook (an OLE file)", save}
	case bytes.HasPrefix(head, []byte{0x1F, 0x8B}):
		return Kind{"a gzip-compressed file", "decompress it first (gunzip)"}
	case bytes.HasPrefix(head, []byte("{\\rtf")):
		return Kind{"an RTF document", "export the job as CSV or .xlsx"}
	}
	return Kind{}
}

// Zip tells a zip archive's kind from the member names its first
// local headers show: a workbook (xl/...), an OpenDocument spreadsheet, a
// Word or PowerPoint document, or another archive.
func Zip(head []byte) Kind {
	switch {
	case bytes.Contains(head, []byte("xl/")):
		return Kind{"an XLSX workbook (a zip file)", "rename it to .xlsx"}
	case bytes.Contains(head, []byte("application/vnd.oasis.opendocument.spreadsheet")):
		return Kind{"an OpenDocument spreadsheet (.ods)", "open it in LibreOffice or Excel and save it as .xlsx or \"CSV UTF-8\""}
	case bytes.Contains(head, []byte("word/")):
		return Kind{"a Word document (.docx)", "a job file is a CSV or .xlsx sheet with a header row"}
	case bytes.Contains(head, []byte("ppt/")):
		return Kind{"a PowerPoint presentation (.pptx)", "a job file is a CSV or .xlsx sheet with a header row"}
	}
	return Kind{"a zip archive (no workbook inside)", "unpack it and give crmbatch the .csv or .xlsx inside"}
}

// Text reports whether head, the start of a file, is text: no control
// characters but tab, CR and LF, and valid UTF-8 but perhaps for a sequence
// cut at the end.
func Text(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	for i := 0; i < len(head); {
		c := head[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n == 1 {
			return len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:])
		}
		i += n
	}
	return true
}

// UTF16Order tells whether head looks like UTF-16 text without a byte order
// mark: the delimiters and line ends of a CSV are ASCII, so in UTF-16 they
// have a NUL byte beside them, at odd offsets in little-endian, at even ones
// in big-endian, and (but for a rare character such as U+0100) never at the
// other; and the whole decodes as UTF-16 with a line end or a delimiter and
// no NUL character. It returns "little-endian", "big-endian" or "".
func UTF16Order(head []byte) string {
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
	var order binary.ByteOrder
	name := ""
	switch {
	case odd > 0 && even*16 <= odd:
		order, name = binary.LittleEndian, "little-endian"
	case even > 0 && odd*16 <= even:
		order, name = binary.BigEndian, "big-endian"
	default:
		return ""
	}
	units := make([]uint16, len(head)/2)
	for i := range units {
		units[i] = order.Uint16(head[2*i:])
	}
	if len(units) > 0 && utf16.IsSurrogate(rune(units[len(units)-1])) {
		units = units[:len(units)-1] // a pair cut at the sniff limit
	}
	separated := false
	for _, r := range utf16.Decode(units) {
		switch r {
		case 0, utf8.RuneError:
			return ""
		case '\n', '\r', ',', ';', '\t':
			separated = true
		}
	}
	if !separated {
		return ""
	}
	return name
}
