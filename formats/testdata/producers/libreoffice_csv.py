"""Saves one sheet of a workbook as CSV the way LibreOffice Calc does, through
its UNO API, under the locale of the environment (make.sh sets LC_ALL to
de_DE.UTF-8 or fr_FR.UTF-8, so amounts are written as a German or French
user sees them). Arguments: SRC DST SHEET SEPARATOR CHARSET QUOTE_ALL, where
SHEET counts from 1, SEPARATOR is the delimiter's ASCII code (59 for ';'),
CHARSET LibreOffice's encoding number (76 UTF-8, 1 Windows-1252) and
QUOTE_ALL true or false. Run by make.sh with LibreOffice's python3."""
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


src, dst, sheet, sep, charset, quote_all = sys.argv[1:7]
profile = tempfile.mkdtemp(prefix="crmbatch-lo-")
pipe = "crmbatch%d" % os.getpid()
office = subprocess.Popen(["soffice", "-env:UserInstallation=file://" + profile, "--headless", "--invisible",
                           "--norestore", "--accept=pipe,name=%s;urp;" % pipe])
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.5)
    else:
        sys.exit("libreoffice did not start")
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0, (prop("Hidden", True),))
    # Tokens: delimiter, text quote, charset, first line, cell formats,
    # language, quote all text cells, (import only), save as shown,
    # formulas, trim spaces, sheet.
    options = "%s,34,%s,1,,0,%s,false,true,false,false,%s" % (sep, charset, quote_all, sheet)
    doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)),
                   (prop("FilterName", "Text - txt - csv (StarCalc)"), prop("FilterOptions", options), prop("Overwrite", True)))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass  # the bridge goes down with the office
finally:
    try:
        office.wait(timeout=30)
    except subprocess.TimeoutExpired:
        office.kill()
