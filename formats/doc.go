// Package formats reads job files (CSV and XLSX) as streams of records and
// writes report files (CSV and XLSX). It knows nothing of the API or of job
// kinds: it gives back exactly what the user wrote, with where they wrote it
// (file, sheet, row, column), in memory that does not grow with the file, and
// refuses what it cannot trust with an *InputError that names the place and
// wraps one of the Err* sentinels.
//
// # CSV
//
// Built on encoding/csv (FieldsPerRecord = -1, strict quotes, ReuseRecord).
// The first 64 KiB decide the encoding: UTF-8 (a BOM is stripped), UTF-16
// with a BOM (Excel's "Unicode Text"), or Windows-1252 when those bytes are
// not valid UTF-8 and hold no valid multi-byte UTF-8 sequence. A file that
// mixes both, or whose later rows break the chosen encoding, is refused with
// ErrEncoding naming the row. The delimiter is the most frequent of , ; and
// tab outside quotes on the header line.
//
// Row numbers are what Excel shows for the file: the header is row 1, every
// record is one row however many line breaks its quoted cells hold, and blank
// lines count as rows (they are skipped, not renumbered).
//
// One record may pull at most MaxCellBytes × MaxColumns (+128 KiB) bytes from
// the file, so an unclosed quote fails with ErrTooLarge instead of reading the
// whole file into memory.
//
// Cells are returned untrimmed. One exception: a cell that NeutraliseFormula
// escaped ('=..., '+..., '-..., '@...) is read back without the apostrophe,
// so a failures report fed back as a job gives the original values
// (+35799123456 stays a phone number). Excel never writes such an apostrophe
// in a CSV it saves, so user files are not affected in practice.
//
// # XLSX
//
// The reader is our own streaming reader of the sheet XML (archive/zip +
// encoding/xml RawToken), not excelize. excelize's streaming Rows/Columns
// (v2.11.1 rows.go) returns only strings: with RawCellValue it gives neither
// the cell type nor the style id, so dates cannot be told from numbers, and it
// discards the decoder's error (`token, _ = rows.decoder.Token()`), so a
// truncated sheet simply ends. Ours reads xl/workbook.xml (sheet names,
// date1904), the relationships, xl/styles.xml (cellXfs and numFmts: built-in
// formats 14-22 and 45-47, or custom codes with d m y h s outside quotes,
// brackets and escapes, are dates) and the shared strings, then decodes the
// sheet row by row. It requires </sheetData>, so a cut file is ErrTruncated.
// Every zip member is checked against MaxXLSXBytes by its declared size and
// again while it expands.
//
// Shared strings are held as one string plus a uint32 end offset per entry
// (about 4 bytes of overhead per string instead of ~16 for a []string), so
// their memory is their text; a 1,000,000-entry table costs ~20 MB.
//
// Measured on the 2-core development machine (BenchmarkXLSXRead1M): 1,000,000
// rows × 3 columns (a number, a unique shared string, a date) in 6.6 s, peak
// RSS 69 MB for the whole benchmark process, shared strings included. The CSV
// reader does the same rows in 0.45 s (bare encoding/csv: 0.22 s).
//
// Values are the stored values, never the displayed text: numbers without an
// exponent (digit strings kept as stored, others via strconv 'f' -1), dates as
// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (rounded to the second; serial 60 of the
// 1900 system is Excel's 1900-02-29), booleans TRUE/FALSE, formulas their
// cached result. A formula without a cached result and an error value (#N/A)
// are ErrCellError.
//
// # Reports
//
// CSV reports are UTF-8 without a byte order mark (so machines reading them
// get clean first headers; people should ask for XLSX), with every cell passed
// through NeutraliseFormula. XLSX reports are written with excelize's
// StreamWriter: every cell is an inline string with the text number format,
// so IDs keep their digits and "=..." is text, never a formula. Both are
// written to a temporary file beside the target, synced and renamed on Commit,
// mode 0600.
package formats
