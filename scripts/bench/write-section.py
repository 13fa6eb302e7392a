#!/usr/bin/env python3
"""Puts one benchmark's section into a Markdown page: write-section.py PAGE NAME SECTION.

SECTION runs from `<!-- bench-NAME:start -->` to `<!-- bench-NAME:end -->`; it replaces the
page's section of that name, or is appended when the page has none (the page is made when
missing). Used by monitor.sh and replication.sh; run.sh writes the page's REST part and keeps
these sections as they are.
"""
import pathlib
import re
import sys

page, name, section = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
page.parent.mkdir(parents=True, exist_ok=True)
text = page.read_text() if page.exists() else ""
pattern = re.compile(rf"<!-- bench-{re.escape(name)}:start -->.*?<!-- bench-{re.escape(name)}:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
elif text.strip():
    text = text.rstrip("\n") + "\n\n" + section + "\n"
else:
    text = section + "\n"
page.write_text(text)
