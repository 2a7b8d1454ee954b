"""Saves workbooks as LibreOffice Calc does, through its UNO API, after
calculating them: each argument is SRC=DST. Run by make.sh with
LibreOffice's python3.

(Saving with a password, EncryptionData with an OOXPassword, hangs the
headless LibreOffice 7.4 of Debian 12, so the corpus has no workbook
encrypted by LibreOffice.)"""
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
    for arg in sys.argv[1:]:
        src, dst = arg.split("=")
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0, (prop("Hidden", True),))
        doc.calculateAll()
        args = [prop("FilterName", "Calc MS Excel 2007 XML"), prop("Overwrite", True)]
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)), tuple(args))
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
