"""Job files as openpyxl writes them: formulas without a cached result
(openpyxl never calculates, and asks for fullCalcOnLoad), number formats,
times, a sheet name ending in a space, long Greek text. Run by make.sh."""
import datetime
import sys

import openpyxl
from openpyxl.styles import numbers

out = sys.argv[1]
GREEK = "Λεμεσός " * 2500  # 20,000 characters, 37,500 bytes of UTF-8

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Devices "  # the trailing space is part of the name
ws.append(["esn", "action", "group_name", "note"])
ws.append(["E-1001", '=IF(1=1,"register","unregister")', "OPERATOR1", GREEK])
ws.append([123, "register", "OPERATOR1", "padded"])
ws["A3"].number_format = "000000000000"
ws.append([4, "register", "OPERATOR1", "literal"])
ws["A4"].number_format = '"pci"000'
ws.append(['=CONCATENATE("E-","1005")', "register", "OPERATOR1", "formula in esn"])
ws.append(["E-1006", "register", "OPERATOR1", "=1/0"])

fm = wb.create_sheet("Formats")
fm.append(["label", "value"])
rows = [
    ("hh:mm", datetime.time(13, 45), "hh:mm"),
    ("builtin 20 h:mm", datetime.time(13, 45), numbers.BUILTIN_FORMATS[20]),
    ("builtin 21 h:mm:ss", datetime.time(8, 5, 9), numbers.BUILTIN_FORMATS[21]),
    ("builtin 18 h:mm AM/PM", datetime.time(18, 0), numbers.BUILTIN_FORMATS[18]),
    ("builtin 46 [h]:mm:ss", datetime.timedelta(hours=42), numbers.BUILTIN_FORMATS[46]),
    ("builtin 14 date", datetime.date(2024, 1, 15), numbers.BUILTIN_FORMATS[14]),
    ("iso date", datetime.date(2024, 1, 15), "yyyy-mm-dd"),
    ("datetime", datetime.datetime(2024, 1, 15, 8, 30), "yyyy-mm-dd hh:mm:ss"),
    ("padded", 123, "000000000000"),
    ("literal", 4, '"pci"000'),
    ("escaped", 7, "\\E\\S\\N0000"),
    ("grouped amount", 1234.5, "#,##0.00"),
    ("currency", 1234.5, '"€"#,##0.00'),
    ("units", 2.5, '0.00 "kg"'),
    ("percent", 0.125, "0.0%"),
    ("plain", 350000000000000, "0"),
]
for label, value, fmt in rows:
    fm.append([label, value])
    fm.cell(row=fm.max_row, column=2).number_format = fmt

wb.save(out + "/openpyxl.xlsx")

# Write-only mode streams rows; its formulas are as uncalculated.
wo = openpyxl.Workbook(write_only=True)
ws = wo.create_sheet("Devices")
ws.append(["esn", "action", "group_name"])
ws.append(["E-2001", "register", "OPERATOR1"])
ws.append(["E-2002", '=IF(1=1,"register","unregister")', "OPERATOR1"])
wo.save(out + "/openpyxl-write-only.xlsx")
