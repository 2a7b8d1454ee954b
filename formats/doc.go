// Package formats reads job files (CSV and XLSX) as streams of records and
// writes report files (CSV and XLSX). It knows nothing of the API or of job
// kinds: it gives back exactly what the user wrote, with where they wrote it
// (file, sheet, row, column), in memory that does not grow with the file, and
// refuses what it cannot trust with an *InputError that names the place and
// wraps one of the Err* sentinels.
//
// # CSV
//
// Records are split by encoding/csv (FieldsPerRecord -1, ReuseRecord, and
// LazyQuotes, so that a quote inside a field that does not start with one
// is a character, as Excel reads "24" monitor"). Around it is what a job
// file needs, in the order the bytes go:
//
//   - The file's kind, from its first bytes: a PNG, JPEG or GIF image, a
//     PDF, a zip (a workbook, an OpenDocument spreadsheet, a Word or
//     PowerPoint document, another archive), an OLE file (.xls or a
//     password-protected workbook), gzip, RTF, or UTF-16 without a byte
//     order mark (Gnumeric's "Unicode" export: NULs at one parity, and the
//     whole decodes as UTF-16 with a line end or delimiter) is refused at
//     once, naming what it is, before some byte of it fails as a quote or
//     an encoding error.
//   - The encoding: UTF-8 (a BOM is stripped), UTF-16 with a BOM (Excel's
//     "Unicode Text"), or Windows-1252. When the first 64 KiB hold a
//     character that is not ASCII, they decide as before (Windows-1252 when
//     they are not valid UTF-8 and hold no valid multi-byte sequence);
//     when they are ASCII, the first byte that is not decides wherever it
//     is, so a file whose first 2,000 rows are ASCII and whose next row has
//     a Windows-1252 "€" is Windows-1252. Text that breaks the encoding
//     chosen is refused with ErrEncoding naming the row and column; the
//     UTF-8 of a read is checked a read at a time, and cells one by one
//     only once a read was not clean.
//   - Excel's delimiter hint: a first line "sep=X" (any ASCII character
//     but a quote) sets the delimiter and is skipped; Excel hides it, so
//     the header is row 1. Else the delimiter is the most frequent of , ;
//     and tab outside quotes on the header line.
//   - Line ends: LF, CRLF, or CR alone (Excel for Mac's "CSV (Macintosh)")
//     when the header line ends in a CR that no LF follows; then every CR
//     (and CRLF) is a line end.
//   - Quotes: a quoted cell is read as encoding/csv reads it. Where
//     LazyQuotes would read rows other than Excel's, the record is refused
//     with ErrMalformed naming its row and column: a quote that is never
//     closed (the rest of the file would be one cell), and a quote inside a
//     quoted cell that is neither doubled nor at the cell's end when the
//     cell then runs over a line break (LazyQuotes keeps the quote and stays
//     inside the cell; Excel leaves it, so the rows after it would be
//     swallowed). quoteWatch sees the text before encoding/csv returns the
//     record, with encoding/csv's own rules, so the refusal comes with the
//     record. A header cell that holds a line break is refused too: the
//     header swallowed lines of the file.
//   - Cells as Excel shows them: ="..." (the form billing systems write so
//     that Excel keeps an ID as text) is the text inside, in any column; a
//     cell that NeutraliseFormula escaped ('=..., '+..., '-..., '@...) is
//     read back without the apostrophe, so a failures report fed back as a
//     job gives the original values (+35799123456 stays a phone number).
//     Cells are otherwise returned untrimmed.
//
// Row numbers are what Excel shows for the file: the header is row 1 (after
// a sep= line), every record is one row however many line breaks its
// quoted cells hold, and blank lines count as rows (they are skipped, not
// renumbered).
//
// A cell is returned whole however long it is; one longer than
// MaxCellChars characters (32,767 by default, Excel's limit), counted as
// Excel counts them, in UTF-16 code units, is one of the record's
// Problems: a job that reads its column refuses the row, one that does not
// copies it to the reports. One record may pull at most MaxCellChars ×
// MaxColumns (+128 KiB) bytes from the file, so an unclosed quote in a
// large file fails with ErrTooLarge instead of reading the whole file into
// memory. A NUL byte is refused with ErrEncoding where it comes, naming its
// row and column (no spreadsheet writes one): the read stops there, so a
// sparse file of gigabytes is refused at once.
//
// # XLSX
//
// Workbooks are read by formats/xlsx, our own streaming reader of the sheet
// XML, which gives back the same Record, kinds and InputError (the types
// live in formats/internal/table and are re-exported here). Its package
// doc says why it is not excelize's, what values it returns and what it
// refuses, and what it costs.
//
// # Files from real programs
//
// testdata/producers holds job files saved by the programs users' files come
// from: openpyxl (normal, write-only, a chart sheet first), XlsxWriter
// (shared strings and constant_memory), LibreOffice Calc (recalculating
// those, and saving CSV under German and French settings), Gnumeric (.xlsx,
// and "Unicode" text with , and ;), excelize's encryption, the npm
// libraries ExcelJS, SheetJS (xlsx), xlsx-populate and write-excel-file
// (.xlsx, and the CSV of the first two), pandas (to_excel with both
// engines, to_csv with a BOM, ';' and decimal commas, Windows-1252, CR line
// ends), R (openxlsx, write.csv, write.csv2) and the CSV forms billing
// systems drop (a sep= line, ="..." cells, Windows-1252 past the first 64
// KiB). make.sh and the scripts beside them write them again from Debian's
// and npm's packages; the tests need none of those programs.
// TestProducerCorpus reads every sheet of every workbook with this reader
// and with excelize and compares them cell by cell: each difference is
// listed in corpusDiffs with why ours is right (ISO dates and times,
// Unusable cells, amounts as typed), and an entry that no longer explains
// a difference fails too. TestProducerWant compares every file that has a
// .want beside it (what Excel shows, typed by hand) cell by cell, and the
// sheet read when none is named.
//
// # Password-protected workbooks
//
// formats/xlsx reads a protected workbook with Options.Password
// (excelize's decryption, in memory); Encrypted tells one from the rest
// without the password.
//
// ReportOptions.Password encrypts an XLSX report with excelize.Encrypt once
// it is complete, so the reports of a protected job file are protected with
// the same password; a CSV report cannot be, and is refused. excelize v2.11.1
// writes a package under 4 KiB into the OLE mini stream in a way that its own
// Decrypt cannot read back, so a small report is padded to 4 KiB with a zip
// comment first.
//
// # Reports
//
// CSV reports are UTF-8 without a byte order mark (so machines reading them
// get clean first headers; people should ask for XLSX), with every cell passed
// through NeutraliseFormula. Both are written to a temporary file beside the
// target, synced and renamed on Commit, with the mode the umask gives (0600
// for the reports of a password-protected workbook).
//
// XLSX reports are written by formats/xlsxreport, our own streaming writer
// (its documentation says why we write it ourselves): every cell text unless
// typed, cut at Excel's 32,767 characters with a mark saying so. A CSV report
// writes every cell whole: a CSV cell has no limit, and the report is what
// the job file held.
package formats
