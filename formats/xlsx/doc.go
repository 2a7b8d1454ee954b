// Package xlsx reads a worksheet of an XLSX workbook as a stream of
// records (package formats' Reader for .xlsx job files): every cell with
// how it was stored (text, number, date, boolean, or unusable) and where it
// is, in memory that does not grow with the sheet.
//
// # Why our own reader
//
// crmbatch uses excelize to write protected reports and to decrypt
// workbooks, but not to read sheets: excelize's streaming reader loses the
// cell types and styles. Its Rows/Columns (v2.11.1 rows.go) returns only
// strings: with RawCellValue it gives neither the cell type nor the style
// id, so dates cannot be told from numbers (nor a padded ID such as
// 000000000123 from the number 123), and it discards the decoder's error
// (`token, _ = rows.decoder.Token()`), so a truncated sheet simply ends
// where a job would take it as complete. Its GetRows keeps the whole sheet
// in memory. So the reader is our own: archive/zip and a hand-written XML
// scanner (internal/xmlscan). It reads xl/workbook.xml (sheet names, date1904),
// the relationships, xl/styles.xml (cellXfs and numFmts: which formats
// show dates, times, or pad and add text, see below) with encoding/xml,
// then the shared strings and the sheet, row by row, with the scanner. It requires </sheetData>, so a cut file is ErrTruncated.
// Options.Sheet names the sheet exactly, else but for case, else (when only
// one fits) once both names are trimmed: a sheet named "Charges " is found
// by --sheet "Charges " and by --sheet Charges. Every zip
// member is checked against MaxXLSXBytes by its declared size and again while
// it expands. One XML token may not pass 16 MiB, nor the raw text of one
// cell or shared string 8 × MaxCellChars bytes, so a member that is one huge cell
// or DOCTYPE fails with ErrTooLarge in bounded memory. DOCTYPEs are skipped
// and entities other than the five predefined ones are errors: nothing is
// expanded or fetched.
//
// The scanner replaced encoding/xml's RawToken for the two big parts: RawToken
// costs a function call per byte, an allocation per token and per attribute,
// and about 40 allocations a row. The scanner works in place over one buffer
// and checks what RawToken checks: names, quoted attribute values, the five
// entities and character references, UTF-8 and the characters XML 1.0
// allows, CR LF normalisation, CDATA, a UTF-8 encoding declaration; like
// RawToken it does not match end tags to start tags. FuzzXMLScanner compares
// it token by token with RawToken. A row's own text (numbers, inline strings)
// is gathered into one string, so a record costs three allocations (that
// string, Fields, Kinds; one with Options.ReuseRecord); shared strings are not copied, and date serials are
// rendered once each (a small cache).
//
// Shared strings are held as one string plus a uint32 end offset per entry
// (about 4 bytes of overhead per string instead of ~16 for a []string), so
// their memory is their text; a 1,000,000-entry table costs ~20 MB.
//
// Measured on the 2-core development machine (BenchmarkXLSXRead1M, 1,000,000
// rows × 3 columns: a number, a unique shared string, a date): 1.6 s and 3
// allocations a row, down from 6.6-8.1 s and 40 allocations a row with
// RawToken; peak RSS ~88 MB (85 MB before) for the whole benchmark process,
// which first writes the 1M-row files, shared strings included. The CSV
// reader's figures, beside bare encoding/csv's, are in the README
// (BenchmarkCSVRead1M, BenchmarkBareEncodingCSV).
//
// Values are what a person looking at the sheet reads, in a form that does
// not depend on the locale: numbers without an exponent (digit strings kept
// as stored, others via strconv 'f' -1), dates as YYYY-MM-DD or
// YYYY-MM-DDTHH:MM:SS (rounded to the second; serial 60 of the 1900 system
// is Excel's 1900-02-29), times of day as HH:MM:SS, elapsed time ([h]:mm:ss)
// as H:MM:SS in hours, booleans TRUE/FALSE, formulas their cached result.
//
// Dates are the built-in formats 14-17 and 22, the East Asian built-ins
// 27-36 and 50-58 (dates or times by locale: a serial under 1 is a time),
// and custom codes with d or y, or m alone, outside quotes, brackets and
// escapes. Times of day are built-ins 18-21, 45 and 47 and custom codes with
// h or s but no d or y (hh:mm reads 13:45:00, not 1899-12-30T13:45:00);
// elapsed time is built-in 46 and codes with [h], [m] or [s].
//
// The first sheet, when Options.Sheet names none, is the first visible
// worksheet: not hidden (state hidden or veryHidden), not a chart sheet,
// and not a worksheet that holds only a drawing and no cell (LibreOffice,
// which has no chart sheets, saves one so). A file that is no zip is
// named from its first bytes (an image, a PDF, UTF-16 or other text), a
// zip without a workbook from its members (a Word document, ...).
//
// Number formats change what the reader returns only when they change the
// text beyond its digits: a custom code whose section for the value pads the
// integer part with zeros (000000000000 shows 123 as 000000000123) or adds
// text with letters or digits ("pci"000 shows 4 as pci004; \E\S\N0000,
// 0000\-0000 and #,##0.00 "kg" likewise) is applied (numfmt.go): the kind
// stays Number, so batch still sees a number cell. Formats that only round,
// group or add a currency symbol (0.00, #,##0, "€"#,##0.00, accounting
// parentheses) leave the stored number, which is what the user typed. A
// format that pads or adds text but also has what the reader does not render
// (a [>100] condition, %, E+, a fraction, a scaling comma) makes the cell
// Unusable, with the hint to format the column as text: never the stored
// number in silence.
//
// Some cells show in Excel what the file does not hold. A formula without a
// cached result (no <v>, or an empty one as openpyxl writes), every formula
// of a workbook that asks to be calculated when opened (fullCalcOnLoad:
// XlsxWriter stores 0 as the result, openpyxl nothing) and an error value
// (#N/A) are not read as blank or 0, nor do they refuse the file: the cell
// is Unusable and the record carries a CellProblem naming the cell, why, and
// the hint (open and save the file in Excel or LibreOffice so it
// calculates). The job decides: batch makes the row invalid when it reads
// that column, and ignores the cell otherwise. In the header such a cell is
// ErrCellError.
//
// # Password-protected workbooks
//
// An encrypted XLSX is an OLE compound file around the encrypted zip. With
// Options.Password it is read through excelize's decryption (excelize.Decrypt,
// ECMA-376 agile and standard encryption): the file, at most MaxXLSXBytes, is
// decrypted in memory and read from there by the same reader; nothing
// decrypted is written to disk. Without a password, with a wrong one (which
// decrypts to noise, not to a zip) or with an encryption excelize does not
// know, the error is ErrEncrypted naming the file, with the hint to set
// CRMBATCH_XLSX_PASSWORD or CRMBATCH_XLSX_PASSWORD_FILE; the password is in
// no message. An OLE file without an encrypted package is a legacy .xls.
// Encrypted tells a protected workbook from the rest without the password.
package xlsx
