"""Job files as XlsxWriter writes them: formulas stored with the result 0
and fullCalcOnLoad, error results, shared strings and constant_memory's
inline strings, every built-in date and time format by index, number
formats that pad or add text, long Greek text. Run by make.sh."""
import datetime
import sys

import xlsxwriter

out = sys.argv[1]
GREEK = "Λεμεσός " * 2500


def devices(ws, wb):
    ws.write_row(0, 0, ["esn", "action", "group_name", "note"])
    ws.write_row(1, 0, ["E-3001", "register", "OPERATOR1", GREEK])
    ws.write_formula(2, 0, '=CONCATENATE("E-","3002")')  # stored as 0
    ws.write_row(2, 1, ["register", "OPERATOR1", "formula stored as 0"])
    ws.write_formula(3, 0, '=CONCATENATE("E-","3003")', None, "E-3003")  # with a value
    ws.write_row(3, 1, ["register", "OPERATOR1", "formula with a value"])
    ws.write_row(4, 0, ["E-3004", "register", "OPERATOR1"])
    ws.write_formula(4, 3, "=NA()", None, "#N/A")
    ws.write_number(5, 0, 123, wb.add_format({"num_format": "000000000000"}))
    ws.write_row(5, 1, ["register", "OPERATOR1", "padded"])


wb = xlsxwriter.Workbook(out + "/xlsxwriter.xlsx")
devices(wb.add_worksheet("Devices "), wb)
fm = wb.add_worksheet("Formats")
fm.write_row(0, 0, ["label", "value"])
r = 1
moment = datetime.datetime(2024, 1, 15, 13, 45, 30)
for index in list(range(14, 23)) + list(range(27, 37)) + list(range(45, 48)) + list(range(50, 59)):
    fm.write_string(r, 0, "builtin %d" % index)
    fm.write_datetime(r, 1, moment, wb.add_format({"num_format": index}))
    r += 1
for index in (18, 20, 21, 45, 47, 27, 32, 50, 55):
    fm.write_string(r, 0, "builtin %d, time only" % index)
    fm.write_datetime(r, 1, datetime.time(13, 45, 30), wb.add_format({"num_format": index}))
    r += 1
for label, value, code in [
    ("padded", 123, "000000000000"),
    ("literal", 4, '"pci"000'),
    ("split", 12345678, "0000\\-0000"),
    ("units", 1234.5, '#,##0.00 "kg"'),
    ("currency", 1234.5, '"€"#,##0.00'),
    ("accounting negative", -5, "#,##0.00_);(#,##0.00)"),
    ("percent padded", 0.5, "00.0%"),
    ("hh:mm", 0.5729166666666666, "hh:mm"),
    ("elapsed", 1.75, "[h]:mm:ss"),
]:
    fm.write_string(r, 0, label)
    fm.write_number(r, 1, value, wb.add_format({"num_format": code}))
    r += 1
wb.close()

# constant_memory writes each row as it comes, strings inline.
wb = xlsxwriter.Workbook(out + "/xlsxwriter-constant-memory.xlsx", {"constant_memory": True})
devices(wb.add_worksheet("Devices "), wb)
wb.close()
