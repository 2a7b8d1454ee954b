// Package xlsxreport writes crmbatch's XLSX reports: one workbook, streamed
// into a writer, whose results sheet takes the rows as they come and whose
// other sheets (Summary, Reconciliation) are added whole. Package formats
// puts it behind its ReportWriter, in a temporary file renamed into place
// on Commit and encrypted when the job file was password-protected; the
// reader of workbooks is formats/xlsx.
//
// # Why our own
//
// It is archive/zip and hand-written SpreadsheetML because a report of a
// million rows must not cost a million rows of memory. It replaced
// excelize's StreamWriter, which took 14 s and ~120-200 MB of RSS and 80
// allocations a row for 1,000,000 rows of 8 columns (it formats every cell
// through reflection and keeps the whole workbook model until it writes).
// formats' BenchmarkXLSXReport1M: 1.7-2.0 s, no allocation per row, peak
// RSS ~19 MB for the whole benchmark process, whatever the row count.
// Deflate runs at BestSpeed: the file is ~25% larger (39 MB instead of
// 32 MB for that benchmark) and compression four times faster. Together
// with our reader, `crmbatch validate` of a 1,000,000-row devices XLSX
// (reads it twice, writes the results and failures reports) went from
// 21.9 s and 167 MB peak RSS to 4.9 s and 80 MB, with reports identical
// cell for cell.
//
// # The workbook
//
// The results sheet is a zip member that rows go into as they come, so
// memory does not grow with the rows; its first 200 rows are held back to
// measure the columns' widths, which precede the rows in the sheet's XML.
// The parts that depend on the sheets added (workbook, relationships,
// content types) and the fixed ones (styles, a minimal Office theme) are
// written on Close, then the added sheets such as Summary. Every cell is an
// inline string (t="inlineStr") in the text number format "@", so IDs keep
// their digits and "=..." is text, never a formula, except the cells typed
// as numbers or dates (Options.Kinds and the kinds given with a row). The
// header row is bold with a frozen pane under it and an autofilter; tinted
// rows get a light red fill. Text is XML-escaped; characters XML 1.0
// forbids (C0 controls other than tab and line feed, U+FFFE, U+FFFF) and
// carriage returns are written as OOXML _xHHHH_ escapes, which Excel and
// our reader decode, so nothing is dropped; a literal "_xHHHH_" gets its
// underscore escaped (_x005F_); bytes that are not UTF-8 become U+FFFD;
// every cell, on every path, is cut at Excel's 32,767 characters (server
// text such as error messages has no limit of its own), ending in
// " [cut at 32,767 characters]" so that the reader knows the cell held
// more. A sheet holds at most 1,048,576 rows; WriteRow fails past that.
// FuzzXLSXReport writes random rows and reads them back with excelize.
package xlsxreport
