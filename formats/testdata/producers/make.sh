#!/bin/sh
# make.sh writes the producer corpus: job files saved by the programs users'
# files come from, committed beside this script so that the tests need none
# of them. Run it from anywhere, as root or with the packages installed:
#
#   apt-get install -y libreoffice-calc python3-openpyxl python3-xlsxwriter gnumeric \
#       python3-pandas r-cran-openxlsx nodejs npm locales
#   (de_DE.UTF-8 and fr_FR.UTF-8 in /etc/locale.gen, then locale-gen)
#   formats/testdata/producers/make.sh
#
# The npm packages (exceljs, xlsx, xlsx-populate, write-excel-file) are
# installed into a temporary folder. Then `go test ./formats -run
# TestProducer` compares every workbook as read by crmbatch with excelize's
# reading, and every file with its .want (what Excel shows, written by hand),
# cell by cell.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
py=/usr/bin/python3 # Debian's, which has openpyxl, xlsxwriter and LibreOffice's uno
password='corpus-Λ-2024' # the corpus's encrypted workbooks; see corpus_test.go
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$here"
rm -f ./*.xlsx ./*.txt ./*.csv

# openpyxl: formulas with an empty cached value, fullCalcOnLoad, number
# formats, times, "Devices " with a trailing space, 20,000 Greek letters.
"$py" openpyxl_jobs.py "$here"

# XlsxWriter: formulas stored as 0 with fullCalcOnLoad, #N/A, every built-in
# date and time format by index, shared strings and constant_memory.
"$py" xlsxwriter_jobs.py "$here"

# LibreOffice Calc opens the openpyxl and XlsxWriter files, calculates them
# (formula results, #DIV/0!, #N/A) and saves them as .xlsx.
"$py" libreoffice_save.py openpyxl.xlsx=libreoffice.xlsx xlsxwriter.xlsx=libreoffice-xlsxwriter.xlsx

# Gnumeric: the openpyxl file saved as .xlsx (formula results as shared
# strings, indented XML), and a job as "Unicode" text: UTF-16LE without a
# byte order mark, every field quoted.
ssconvert openpyxl.xlsx gnumeric.xlsx
printf 'esn,action,group_name\nE-4001,register,OPERATOR1\nE-4002,register,Λεμεσός\n' >"$tmp/jobs.csv"
ssconvert -O 'charset=UTF-16LE quoting-mode=always separator=,' "$tmp/jobs.csv" gnumeric-unicode.txt

# excelize: the XlsxWriter and LibreOffice files encrypted with the password
# (standard encryption, as excelize's SaveAs with a password).
(cd "$root" && go run ./formats/testdata/producers/excelize_encrypt "$here/xlsxwriter.xlsx" "$here/excelize-encrypted.xlsx" "$password")
(cd "$root" && go run ./formats/testdata/producers/excelize_encrypt "$here/libreoffice.xlsx" "$here/excelize-encrypted-libreoffice.xlsx" "$password")

# ExcelJS, SheetJS, xlsx-populate and write-excel-file: a hidden first
# sheet, a padded number, dates and amounts; ExcelJS's and SheetJS's CSV.
(cd "$tmp" && npm init -y >/dev/null && npm install --silent exceljs xlsx xlsx-populate write-excel-file >/dev/null)
NODE_PATH="$tmp/node_modules" node npm_jobs.js "$here"

# pandas: to_excel with both engines, to_csv as scripts call it.
"$py" pandas_jobs.py "$here"

# R: openxlsx (which gives its date and padded formats one numFmtId) and
# write.csv / write.csv2.
Rscript r_jobs.R "$here"

# LibreOffice Calc saving CSV under German and French settings (amounts as
# 1.234,50 and 1 234,50), from the ExcelJS workbook.
LC_ALL=de_DE.UTF-8 "$py" libreoffice_csv.py exceljs.xlsx "$tmp/de.csv" 3 59 1 false
LC_ALL=fr_FR.UTF-8 "$py" libreoffice_csv.py exceljs.xlsx "$tmp/fr.csv" 3 59 76 false
LC_ALL=fr_FR.UTF-8 "$py" libreoffice_csv.py exceljs.xlsx "$tmp/fr.csv" 2 44 76 true
mv "$tmp/de-Charges.csv" libreoffice-de.csv
mv "$tmp/fr-Charges.csv" libreoffice-fr.csv
mv "$tmp/fr-Devices.csv" libreoffice-fr-devices.csv

# A chart sheet first: openpyxl's, and LibreOffice's saving of it (a
# worksheet that holds only the chart).
"$py" openpyxl_chartsheet.py "$here"
"$py" libreoffice_save.py openpyxl-chartsheet.xlsx=libreoffice-chartsheet.xlsx

# Gnumeric's "Unicode" text with ';', and the billing systems' CSV forms.
ssconvert -O 'charset=UTF-16LE quoting-mode=always separator=;' "$tmp/jobs.csv" gnumeric-unicode-semicolon.txt
"$py" billing_csv.py "$here"

ls -l "$here"
