"""A workbook whose first sheet is a chart sheet, as openpyxl writes it
(xl/chartsheets/), the job on the sheet after it. Run by make.sh; LibreOffice
then saves it again, turning the chart sheet into a worksheet that holds
only the chart."""
import sys

import openpyxl
from openpyxl.chart import BarChart, Reference

out = sys.argv[1]
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Devices"
ws.append(["esn", "action", "group_name"])
ws.append(["E-8001", "register", "OPERATOR1"])
ws.append(["E-8002", "register", "OPERATOR1"])
chart = BarChart()
chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=3))
cs = wb.create_chartsheet("Chart", 0)
cs.add_chart(chart)
wb.save(out + "/openpyxl-chartsheet.xlsx")
