"""Job files as pandas writes them: DataFrame.to_excel with the openpyxl
and XlsxWriter engines (dates as datetimes, IDs as text or numbers), and
DataFrame.to_csv as scripts that feed billing systems call it: UTF-8 with a
BOM for Excel, ';' with decimal commas, Windows-1252, and CR line ends.
Run by make.sh with Debian's python3-pandas."""
import datetime
import sys

import pandas as pd

out = sys.argv[1]

devices = pd.DataFrame({
    "esn": ["E-6001", "00012345678901234567", "E-6003", "E-6004"],
    "action": ["register", "register", "unregister", "register"],
    "group_name": ["OPERATOR1", "OPERATOR1", "Λεμεσός", "OPERATOR1"],
    "note": ['24" monitor, left desk', "text with leading zeros", "Greek group", "line one\nline two"],
})
charges = pd.DataFrame({
    "number": ["I00011", "I00012"],
    "billing_system_customer_identifier": ["C-011", "0042"],
    "reference_number": ["REF-11", None],
    "amount": [1234.5, 5.0],
    "due": [datetime.datetime(2024, 1, 15), datetime.datetime(2024, 2, 29, 13, 45)],
})

for engine in ("openpyxl", "xlsxwriter"):
    with pd.ExcelWriter("%s/pandas-%s.xlsx" % (out, engine), engine=engine) as xw:
        devices.to_excel(xw, sheet_name="Devices", index=False)
        charges.to_excel(xw, sheet_name="Charges", index=False)

# Excel's "CSV UTF-8": a byte order mark, CRLF.
devices.to_csv(out + "/pandas-utf8-sig.csv", index=False, encoding="utf-8-sig", lineterminator="\r\n")
# A European export: ';' and a decimal comma.
charges.to_csv(out + "/pandas-semicolon.csv", index=False, sep=";", decimal=",")
# Windows-1252, as an old billing system writes it (no Greek there).
cp = devices.copy()
cp.loc[2, "group_name"] = "Société €"
cp.to_csv(out + "/pandas-cp1252.csv", index=False, encoding="cp1252")
# CR line ends, as Excel for Mac's "CSV (Macintosh)".
devices.iloc[[0, 2]].to_csv(out + "/pandas-cr.csv", index=False, lineterminator="\r")
