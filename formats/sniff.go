package formats

import (
	"bytes"
	"unicode/utf8"
)

// cfbMagic starts an OLE compound file: an encrypted OOXML workbook or a legacy .xls.
var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// fileKind is what a file's first bytes say it is, when it is no text.
type fileKind struct {
	what string // "a PNG image"
	hint string // what to do about it, for a job file
}

// binaryKind names what head, the start of a file, is when its first bytes
// say it is some other kind of file than text: an image, a PDF, a zip
// archive (a workbook, a Word document or another), an OLE file, a
// compressed file. It returns the zero fileKind for anything else, text
// included.
func binaryKind(head []byte) fileKind {
	const save = "open it in Excel and save it as \"CSV UTF-8\" or as .xlsx"
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return fileKind{"a PNG image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return fileKind{"a JPEG image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return fileKind{"a GIF image", "an image holds no rows: export the job from the program that has them"}
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return fileKind{"a PDF document", "a PDF holds no rows crmbatch can read: export the job as CSV or .xlsx from the program that made the PDF"}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipKind(head)
	case bytes.HasPrefix(head, cfbMagic):
		return fileKind{"an Excel .xls or password-protected workbook (an OLE file)", save}
	case bytes.HasPrefix(head, []byte{0x1F, 0x8B}):
		return fileKind{"a gzip-compressed file", "decompress it first (gunzip)"}
	case bytes.HasPrefix(head, []byte("{\\rtf")):
		return fileKind{"an RTF document", "export the job as CSV or .xlsx"}
	}
	return fileKind{}
}

// zipKind tells a zip archive's kind from the member names its first
// local headers show: a workbook (xl/...), an OpenDocument spreadsheet, a
// Word or PowerPoint document, or another archive.
func zipKind(head []byte) fileKind {
	switch {
	case bytes.Contains(head, []byte("xl/")):
		return fileKind{"an XLSX workbook (a zip file)", "rename it to .xlsx"}
	case bytes.Contains(head, []byte("application/vnd.oasis.opendocument.spreadsheet")):
		return fileKind{"an OpenDocument spreadsheet (.ods)", "open it in LibreOffice or Excel and save it as .xlsx or \"CSV UTF-8\""}
	case bytes.Contains(head, []byte("word/")):
		return fileKind{"a Word document (.docx)", "a job file is a CSV or .xlsx sheet with a header row"}
	case bytes.Contains(head, []byte("ppt/")):
		return fileKind{"a PowerPoint presentation (.pptx)", "a job file is a CSV or .xlsx sheet with a header row"}
	}
	return fileKind{"a zip archive (no workbook inside)", "unpack it and give crmbatch the .csv or .xlsx inside"}
}

// looksText reports whether head, the start of a file, is text: no control
// characters but tab, CR and LF, and valid UTF-8 but perhaps for a sequence
// cut at the end.
func looksText(head []byte) bool {
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
