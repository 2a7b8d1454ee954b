// Job files as four npm libraries write them: ExcelJS, SheetJS (xlsx),
// xlsx-populate and write-excel-file. Each writes the same workbook: a
// hidden first sheet (where the library can hide one), a devices sheet with
// text, padded-number and long-number identifiers, a charges sheet with
// amounts and dates. Run by make.sh with the packages in NODE_PATH.
const path = require("path");
const out = process.argv[2];

const NOTE = '24" monitor, left desk';
const PAD = "0000000000000000"; // 16 digits: 12345 shows as 0000000000012345

async function exceljs() {
  const ExcelJS = require("exceljs");
  const wb = new ExcelJS.Workbook();
  const notes = wb.addWorksheet("Notes", { state: "hidden" });
  notes.addRow(["note"]);
  notes.addRow(["hidden: not the job"]);
  const d = wb.addWorksheet("Devices");
  d.addRow(["esn", "action", "group_name", "note"]);
  d.addRow(["E-5001", "register", "OPERATOR1", NOTE]);
  d.addRow([12345, "register", "OPERATOR1", "padded number"]);
  d.getCell("A3").numFmt = PAD;
  d.addRow(["00012345678901234567", "register", "OPERATOR1", "text with leading zeros"]);
  d.addRow(["E-5005", "unregister", "Λεμεσός", "Greek group"]);
  d.addRow([350000000000000, "register", "OPERATOR1", "15-digit number"]);
  const c = wb.addWorksheet("Charges");
  c.addRow(["number", "billing_system_customer_identifier", "reference_number", "amount", "due"]);
  c.addRow(["I00001", "C-001", "REF-1", 1234.5, new Date(Date.UTC(2024, 0, 15))]);
  c.addRow(["I00002", "0042", null, 5, new Date(Date.UTC(2024, 1, 29))]);
  c.getColumn(4).numFmt = "#,##0.00";
  c.getColumn(5).numFmt = "yyyy-mm-dd";
  await wb.xlsx.writeFile(path.join(out, "exceljs.xlsx"));
  // ExcelJS's CSV writer (fast-csv underneath): the devices sheet.
  await wb.csv.writeFile(path.join(out, "exceljs.csv"), { sheetName: "Devices" });
}

function sheetjs() {
  const XLSX = require("xlsx");
  const wb = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(wb, XLSX.utils.aoa_to_sheet([["note"], ["hidden: not the job"]]), "Notes");
  const d = XLSX.utils.aoa_to_sheet([
    ["esn", "action", "group_name", "note"],
    ["E-5001", "register", "OPERATOR1", NOTE],
    [12345, "register", "OPERATOR1", "padded number"],
    ["00012345678901234567", "register", "OPERATOR1", "text with leading zeros"],
    ["E-5005", "unregister", "Λεμεσός", "Greek group"],
    [350000000000000, "register", "OPERATOR1", "15-digit number"],
  ]);
  d["A3"].z = PAD;
  XLSX.utils.book_append_sheet(wb, d, "Devices");
  const c = XLSX.utils.aoa_to_sheet([
    ["number", "billing_system_customer_identifier", "reference_number", "amount", "due"],
    ["I00001", "C-001", "REF-1", 1234.5, new Date(Date.UTC(2024, 0, 15))],
    ["I00002", "0042", null, 5, new Date(Date.UTC(2024, 1, 29))],
  ], { cellDates: true });
  c["D2"].z = "#,##0.00";
  c["D3"].z = "#,##0.00";
  c["E2"].z = "yyyy-mm-dd";
  c["E3"].z = "yyyy-mm-dd";
  XLSX.utils.book_append_sheet(wb, c, "Charges");
  wb.Workbook = { Sheets: [{ Hidden: 1 }, { Hidden: 0 }, { Hidden: 0 }] };
  XLSX.writeFile(wb, path.join(out, "sheetjs.xlsx"), { cellDates: true });
  // SheetJS's CSV of the devices sheet, as shown (the padded number too).
  require("fs").writeFileSync(path.join(out, "sheetjs.csv"), XLSX.utils.sheet_to_csv(d));
}

async function populate() {
  const XlsxPopulate = require("xlsx-populate");
  const wb = await XlsxPopulate.fromBlankAsync();
  const notes = wb.sheet(0);
  notes.name("Notes");
  notes.cell("A1").value("note");
  notes.cell("A2").value("hidden: not the job");
  const d = wb.addSheet("Devices");
  d.cell("A1").value([
    ["esn", "action", "group_name", "note"],
    ["E-5001", "register", "OPERATOR1", NOTE],
    [12345, "register", "OPERATOR1", "padded number"],
    ["00012345678901234567", "register", "OPERATOR1", "text with leading zeros"],
    ["E-5005", "unregister", "Λεμεσός", "Greek group"],
    [350000000000000, "register", "OPERATOR1", "15-digit number"],
  ]);
  d.cell("A3").style("numberFormat", PAD);
  const c = wb.addSheet("Charges");
  c.cell("A1").value([
    ["number", "billing_system_customer_identifier", "reference_number", "amount", "due"],
    ["I00001", "C-001", "REF-1", 1234.5, new Date(2024, 0, 15)],
    ["I00002", "0042", undefined, 5, new Date(2024, 1, 29)],
  ]);
  c.range("D2:D3").style("numberFormat", "#,##0.00");
  c.range("E2:E3").style("numberFormat", "yyyy-mm-dd");
  notes.hidden(true);
  await wb.toFileAsync(path.join(out, "xlsx-populate.xlsx"));
}

async function writeExcelFile() {
  const writeXlsxFile = require("write-excel-file/node").default;
  const devices = [
    ["esn", "action", "group_name", "note"],
    ["E-5001", "register", "OPERATOR1", NOTE],
    [{ value: 12345, type: Number, format: PAD }, "register", "OPERATOR1", "padded number"],
    ["00012345678901234567", "register", "OPERATOR1", "text with leading zeros"],
    ["E-5005", "unregister", "Λεμεσός", "Greek group"],
    [350000000000000, "register", "OPERATOR1", "15-digit number"],
  ].map((row) => row.map((v) => (typeof v === "object" ? v : { value: v })));
  const charges = [
    ["number", "billing_system_customer_identifier", "reference_number", "amount", "due"].map((v) => ({ value: v })),
    [{ value: "I00001" }, { value: "C-001" }, { value: "REF-1" }, { value: 1234.5, format: "#,##0.00" },
      { value: new Date(Date.UTC(2024, 0, 15)), type: Date, format: "yyyy-mm-dd" }],
    [{ value: "I00002" }, { value: "0042", format: "@" }, null, { value: 5, format: "#,##0.00" },
      { value: new Date(Date.UTC(2024, 1, 29)), type: Date, format: "yyyy-mm-dd" }],
  ];
  await writeXlsxFile([
    { data: devices, sheet: "Devices" },
    { data: charges, sheet: "Charges" },
  ]).toFile(path.join(out, "write-excel-file.xlsx"));
}

(async () => {
  await exceljs();
  sheetjs();
  await populate();
  await writeExcelFile();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
