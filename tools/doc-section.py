#!/usr/bin/env python3
"""Keeps a generated section of a document in step with its generator.

    doc-section.py check  DOC NAME GENERATOR [ARGS...]
    doc-section.py update DOC NAME GENERATOR [ARGS...]

The section is the text between the lines
    <!-- generated: NAME (do not edit: ninja -C build update-docs) -->
    <!-- end generated: NAME -->
and GENERATOR's standard output is what it must hold. `check` fails (and
shows the difference) when the two differ, so a test catches stale docs;
`update` rewrites the section.
"""
import difflib
import subprocess
import sys


def markers(name):
    return (f"<!-- generated: {name} (do not edit: ninja -C build update-docs) -->\n",
            f"<!-- end generated: {name} -->\n")


def split(text, name, doc):
    begin, end = markers(name)
    if text.count(begin) != 1 or text.count(end) != 1:
        sys.exit(f"{doc}: needs exactly one pair of lines\n  {begin.strip()}\n  {end.strip()}")
    head, rest = text.split(begin)
    body, tail = rest.split(end)
    return head + begin, body, end + tail


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("check", "update"):
        sys.exit(__doc__.strip())
    mode, doc, name, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    generated = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    head, body, tail = split(text, name, doc)
    if body == generated:
        return
    if mode == "update":
        with open(doc, "w", encoding="utf-8") as f:
            f.write(head + generated + tail)
        print(f"{doc}: section {name} updated")
        return
    sys.stdout.writelines(difflib.unified_diff(body.splitlines(True), generated.splitlines(True),
                                               f"{doc} ({name})", "generated"))
    sys.exit(f"{doc}: section {name} is stale: run `ninja -C build update-docs`")


if __name__ == "__main__":
    main()
