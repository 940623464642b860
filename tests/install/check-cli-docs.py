#!/usr/bin/env python3
"""The man page and the bash completion against vmm's own usage texts.

    check-cli-docs.py man VMM MANPAGE
        each command's options in vmm(1) (the sections OPTIONS, RUN OPTIONS,
        SERVE OPTIONS, CTL OPTIONS) are exactly those its usage lists
    check-cli-docs.py completion VMM COMPLETION
        the completion offers the commands, and for each command exactly
        the options its usage lists

The usage texts: `vmm --help` (every command's synopsis, then run's options
one a line) and what `vmm serve --help` and `vmm ctl --help` print (an
unknown option gets the command's usage on stderr).
"""
import os
import re
import subprocess
import sys

COMMANDS = ('run', 'serve', 'ctl')
# Long options only: the short -h and -V are aliases the usage does not list.
OPTION = re.compile(r'(?<![\w-])(--[a-z][a-z0-9-]*)(?![\w-])')


def usage_options(vmm):
    """{command or '': set of options} from vmm's usage texts."""
    top = subprocess.run([vmm, '--help'], capture_output=True, text=True, check=True).stdout
    opts = {c: set() for c in COMMANDS}
    opts[''] = {'--help'}  # how this text was asked for
    cmd = None
    for line in top.splitlines():
        m = re.match(r'(?:usage:)?\s+vmm (\S+)', line) or re.match(r'usage: vmm (\S+)', line)
        if m:
            word = m.group(1)
            cmd = word if word in COMMANDS else ''
            found = OPTION.findall(line)
            opts[cmd].update(found)
            continue
        if re.match(r'  -', line):  # run's options, one a line
            opts['run'].update(OPTION.findall(line.split()[0]))
    for c in ('serve', 'ctl'):
        p = subprocess.run([vmm, c, '--help'], capture_output=True, text=True)
        text = p.stdout + p.stderr
        usage = text[text.index('usage:'):] if 'usage:' in text else ''
        if not usage:
            sys.exit(f'vmm {c} --help printed no usage: {text!r}')
        opts[c].update(o for o in OPTION.findall(usage) if o != '--help')
    for c in COMMANDS:
        if not opts[c]:
            sys.exit(f'no options found for vmm {c} in its usage')
    return opts


def man_options(path):
    """{command or '': set of options} from the man page's option sections."""
    sections = {'OPTIONS': '', 'RUN OPTIONS': 'run', 'SERVE OPTIONS': 'serve',
                'CTL OPTIONS': 'ctl'}
    opts = {c: set() for c in sections.values()}
    cur = None
    tagged = False
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if line.startswith('.SH '):
            cur = sections.get(line[4:].strip().strip('"'))
            continue
        if cur is None:
            continue
        if line.startswith('.TP'):
            tagged = True  # the next line is the tag: the option(s)
            continue
        if tagged:
            tagged = False
            text = re.sub(r'\\-', '-', line)
            text = re.sub(r'\\f[BIRP]', '', text)
            text = re.sub(r'^\.[A-Z]+ ', '', text)
            opts[cur].update(OPTION.findall(text.replace('"', ' ')))
    return opts


def compare(what, want, got):
    bad = []
    for c in sorted(want):
        name = f'vmm {c}'.strip()
        for o in sorted(want[c] - got.get(c, set())):
            bad.append(f'{name}: {o} is in the usage but not in the {what}')
        for o in sorted(got.get(c, set()) - want[c]):
            bad.append(f'{name}: {o} is in the {what} but not in the usage')
    return bad


def completion_offers(path, words):
    """What the completion offers for the command line @words (the last
    one being completed)."""
    script = f'''
        set -e
        source {quote(os.path.abspath(path))}
        COMP_WORDS=({" ".join(quote(w) for w in words)})
        COMP_CWORD={len(words) - 1}
        COMP_LINE={quote(" ".join(words))}
        COMP_POINT=${{#COMP_LINE}}
        compopt() {{ :; }}
        _vmm vmm {quote(words[-1])} {quote(words[-2])}
        printf '%s\\n' "${{COMPREPLY[@]}}"
    '''
    out = subprocess.run(['bash', '--norc', '--noprofile', '-c', script], capture_output=True,
                         text=True, check=True, cwd='/').stdout
    return set(out.split())


def quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def completion_options(path):
    got = {'': completion_offers(path, ['vmm', '-'])}
    commands = completion_offers(path, ['vmm', ''])
    for c in COMMANDS:
        got[c] = completion_offers(path, ['vmm', c, '-'])
    return got, commands


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ('man', 'completion'):
        sys.exit(__doc__)
    mode, vmm, doc = sys.argv[1:]
    want = usage_options(vmm)
    if mode == 'man':
        bad = compare('man page', want, man_options(doc))
    else:
        got, commands = completion_options(doc)
        bad = compare('completion', want, got)
        for c in sorted(set(COMMANDS) - commands):
            bad.append(f'the completion does not offer the command {c}')
        for c in sorted(commands - set(COMMANDS)):
            bad.append(f'the completion offers {c}, which is no command')
    for b in bad:
        print(b)
    if bad:
        sys.exit(1)
    print(f'{doc}: every option of every command, as the usage lists them')


main()
