# Job files as R writes them: openxlsx (a hidden first sheet, a padded
# number format, dates) and base R's write.csv and write.csv2 (the German
# form: ';' and decimal commas, every text quoted). Run by make.sh with
# Debian's r-cran-openxlsx.
library(openxlsx)
out <- commandArgs(trailingOnly = TRUE)[1]

devices <- data.frame(
  esn = c("E-7001", "00012345678901234567", "E-7003"),
  action = c("register", "register", "unregister"),
  group_name = c("OPERATOR1", "OPERATOR1", "\u039b\u03b5\u03bc\u03b5\u03c3\u03cc\u03c2"),
  note = c('24" monitor, left desk', "text with leading zeros", "Greek group"),
  stringsAsFactors = FALSE
)
charges <- data.frame(
  number = c("I00021", "I00022"),
  billing_system_customer_identifier = c("C-021", "0042"),
  reference_number = c("REF-21", NA),
  amount = c(1234.5, 5),
  due = as.Date(c("2024-01-15", "2024-02-29")),
  stringsAsFactors = FALSE
)

wb <- createWorkbook()
addWorksheet(wb, "Notes", visible = FALSE)
writeData(wb, "Notes", data.frame(note = "hidden: not the job"))
addWorksheet(wb, "Devices")
writeData(wb, "Devices", devices)
# A padded number: 12345 shows as 0000000000012345.
writeData(wb, "Devices", data.frame(esn = 12345, action = "register", group_name = "OPERATOR1", note = "padded number"),
  startRow = 5, colNames = FALSE)
addStyle(wb, "Devices", createStyle(numFmt = "0000000000000000"), rows = 5, cols = 1)
addWorksheet(wb, "Charges")
writeData(wb, "Charges", charges)
addStyle(wb, "Charges", createStyle(numFmt = "#,##0.00"), rows = 2:3, cols = 4)
addStyle(wb, "Charges", createStyle(numFmt = "yyyy-mm-dd"), rows = 2:3, cols = 5)
saveWorkbook(wb, file.path(out, "r-openxlsx.xlsx"), overwrite = TRUE)

write.csv(devices, file.path(out, "r-write-csv.csv"), row.names = FALSE, fileEncoding = "UTF-8")
write.csv2(charges, file.path(out, "r-write-csv2.csv"), row.names = FALSE, na = "", fileEncoding = "UTF-8")
