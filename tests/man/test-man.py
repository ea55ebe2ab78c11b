#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The man pages' sources against what the programs and the schema tables say, so that none can drift:

- netd(8): its OPTIONS are exactly the options of `netd --help`.
- netdctl(1): its OPTIONS are exactly `netdctl --help`'s Options; every command of --help has an entry
  (`*noun verb* ...` in a COMMANDS section) and the reverse; each command's options in --help appear in
  its entry, and each option its entry documents is one of that command's in --help (or a global one);
  every option anywhere in --help appears in the page.
- netd.conf(5): every [section] and key of the network, guest and uplink schema tables (schema-dump)
  has an entry (`*key* = ...` under `## [section]` of its file's `# ...` section) and the reverse; an
  entry states the row's default, "boolean" for a boolean row, the range of a number, the netdctl
  option that sets it, and "repeatable" exactly when the row is; every option the page names is one
  of netd's or netdctl's.

Usage: test-man.py NETD NETDCTL SCHEMA_DUMP MAN_DIR
"""
import re
import subprocess
import sys


# netd.conf(5)'s top-level sections, and the schema kind each describes.
CONF_FILES = {
    "NETWORK DEFINITIONS": "network",
    "GUEST DEFINITIONS": "guest",
    "UPLINK FILES": "uplink",
}

OPT_RE = re.compile(r"(?<![\w/.-])(--[a-z0-9][a-z0-9-]*|-[a-z])(?![\w-])")
failures = []


def fail(msg):
    failures.append(msg)


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def plain(line):
    """scdoc markup off: *bold*, _underline_ and backslash escapes."""
    line = re.sub(r"\\(.)", lambda m: "\0" + m.group(1), line)
    line = re.sub(r"(?<![\w\0])_|_(?![\w])", "", line)
    line = line.replace("*", "")
    return line.replace("\0", "")


def opts(text):
    return set(OPT_RE.findall(text))


def sections(path):
    """{'# HEADING': [lines]} of an scd file."""
    out, cur = {}, None
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("# "):
                cur = line[2:].strip()
                out[cur] = []
            elif cur is not None:
                out[cur].append(line)
    return out


def entries(lines):
    """[(term, nested_terms, body)]: a term is a line that starts with '*', its body the indented lines
    under it; nested terms are body lines of one tab then '*'."""
    out, cur = [], None
    for line in lines:
        if line.startswith("*"):
            cur = (line, [], [])
            out.append(cur)
        elif cur and (line.startswith("\t") or not line.strip()):
            if re.match(r"\t\*", line):
                cur[1].append(line)
            cur[2].append(line)
        elif line.strip():
            cur = None  # prose (or a literal block) ends the entry before it
    return out


def command_key(text):
    """The command's words: up to its first argument, or to the description after two spaces."""
    words = []
    for w in re.split(r"\s{2,}", plain(text).strip())[0].split():
        if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
            break
        words.append(w)
    return " ".join(words)


# ---- netd(8) ----
def check_netd(netd, man_dir):
    help_opts = set()
    for line in run(netd, "--help").splitlines():
        m = re.match(r"  (?:(-\w), )?(--[a-z0-9-]+)", line)
        if m:
            help_opts.update(x for x in m.groups() if x)
    page = sections(f"{man_dir}/netd.8.scd")
    man_opts = set()
    for term, _, _ in entries(page.get("OPTIONS", [])):
        man_opts |= opts(plain(term))
    for o in sorted(help_opts - man_opts):
        fail(f"netd.8: option {o} of netd --help is not in OPTIONS")
    for o in sorted(man_opts - help_opts):
        fail(f"netd.8: OPTIONS documents {o}, which netd --help does not have")
    for s in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "FILES", "PERMISSIONS", "LOGGING",
              "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        if s not in page:
            fail(f"netd.8: no {s} section")
    return len(help_opts)


# ---- netdctl(1) ----
def netdctl_help(netdctl):
    text = run(netdctl, "--help")
    cmds, glob, part = {}, set(), None
    key = None
    for line in text.splitlines():
        if line == "Commands:":
            part = "commands"
        elif line == "Options:":
            part = "options"
        elif not line.strip():
            part = None if part == "options" else part
            key = None
        elif part == "commands" and re.match(r"  [a-z]", line):
            key = command_key(line)
            cmds.setdefault(key, set()).update(opts(line))
        elif part == "commands" and line.startswith("   ") and key:
            cmds[key].update(opts(line))
        elif part == "options":
            m = re.match(r"  (?:(-\w), )?(--[a-z0-9-]+)", line)
            if m:
                glob.update(x for x in m.groups() if x)
    return text, cmds, glob


def check_netdctl(netdctl, man_dir):
    text, help_cmds, help_glob = netdctl_help(netdctl)
    page = sections(f"{man_dir}/netdctl.1.scd")
    man_cmds = {}  # key -> [term options, all options of the entry]
    for heading, lines in page.items():
        if not heading.endswith("COMMANDS"):
            continue
        for term, nested, body in entries(lines):
            key = command_key(term)
            e = man_cmds.setdefault(key, [set(), set()])
            e[0] |= opts(plain(term)) | opts(plain("\n".join(nested)))
            e[1] |= opts(plain(term)) | opts(plain("\n".join(body)))
    man_glob = set()
    for term, _, _ in entries(page.get("OPTIONS", [])):
        man_glob |= opts(plain(term))

    if man_glob != help_glob:
        fail(f"netdctl.1: OPTIONS has {sorted(man_glob)}, netdctl --help's Options {sorted(help_glob)}")
    for key in sorted(set(help_cmds) - set(man_cmds)):
        fail(f"netdctl.1: command '{key}' of netdctl --help has no entry")
    for key in sorted(set(man_cmds) - set(help_cmds)):
        fail(f"netdctl.1: documents command '{key}', which netdctl --help does not have")
    for key in sorted(set(help_cmds) & set(man_cmds)):
        terms, documented = man_cmds[key]
        for o in sorted(help_cmds[key] - documented):
            fail(f"netdctl.1: '{key}': option {o} of netdctl --help is not in its entry")
        for o in sorted(terms - help_cmds[key]):
            fail(f"netdctl.1: '{key}': documents option {o}, which --help does not give this command")
        for o in sorted(documented - help_cmds[key] - help_glob):
            fail(f"netdctl.1: '{key}': mentions option {o}, which is neither this command's nor global")
    whole = plain(open(f"{man_dir}/netdctl.1.scd").read())
    for o in sorted(opts(text) - opts(whole)):
        fail(f"netdctl.1: option {o} (in netdctl --help) is nowhere in the page")
    for s in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES",
              "SEE ALSO"):
        if s not in page:
            fail(f"netdctl.1: no {s} section")
    return len(help_cmds)


# ---- netd.conf(5) ----
def check_conf(schema_dump, man_dir, known_opts):
    rows = {}
    items = {}
    for line in run(schema_dump).splitlines():
        kind, sec, n, key, typ, default, lo, hi, flags, option = line.split("\t")
        rows[(kind, sec, key)] = (typ, default, int(lo), int(hi), flags == "repeatable", option)
        items[(kind, sec)] = int(n)
    page = sections(f"{man_dir}/netd.conf.5.scd")
    man = {}
    headers = {}
    for heading, kind in CONF_FILES.items():
        if heading not in page:
            fail(f"netd.conf.5: no section '# {heading}'")
            continue
        sec = None
        for line in page[heading]:
            m = re.match(r"## \[([a-z]+?)(\d*)\]", line)
            if m:
                sec = m.group(1)
                headers[(kind, sec)] = line
                continue
            if line.startswith("## "):
                sec = None
            m = re.match(r"\*([a-z0-9-]+)\* = ", line)
            if m and sec:
                cur = man.setdefault((kind, sec, m.group(1)), [])
                cur.append(line)
            elif sec and man and line.startswith("\t"):
                cur.append(line)
    for k in sorted(set(rows) - set(man)):
        fail(f"netd.conf.5: {k[0]} [{k[1]}] {k[2]} (a schema row) is not documented")
    for k in sorted(set(man) - set(rows)):
        fail(f"netd.conf.5: documents {k[0]} [{k[1]}] {k[2]}, which no schema row has")
    for (kind, sec), n in items.items():
        h = headers.get((kind, sec))
        if h is None:
            fail(f"netd.conf.5: {kind} has no '## [{sec}]' section")
        elif n and not (f"[{sec}0]" in h and f"[{sec}{n - 1}]" in h):
            fail(f"netd.conf.5: '{h}' should name [{sec}0] to [{sec}{n - 1}]")
    for k in sorted(set(rows) & set(man)):
        typ, default, lo, hi, repeatable, option = rows[k]
        body = plain(" ".join(x.strip() for x in man[k]))
        name = f"{k[0]} [{k[1]}] {k[2]}"
        if default != "-" and not re.search(rf"default:? {re.escape(default)}\b", body, re.I):
            fail(f"netd.conf.5: {name} should say 'Default: {default}'")
        if typ == "boolean" and "boolean" not in body:
            fail(f"netd.conf.5: {name} is a boolean (yes/no) and should say so")
        if typ in ("number", "duration") and hi and f"{lo}-{hi}" not in body:
            fail(f"netd.conf.5: {name} should give its range {lo}-{hi}")
        if option != "-" and option not in opts(body):
            fail(f"netd.conf.5: {name} should name its netdctl option {option}")
        if repeatable != ("repeatable" in body.lower()):
            fail(f"netd.conf.5: {name} is {'' if repeatable else 'not '}repeatable, the page says otherwise")
    whole = plain(open(f"{man_dir}/netd.conf.5.scd").read())
    for o in sorted(opts(whole) - known_opts):
        fail(f"netd.conf.5: names option {o}, which neither netd nor netdctl has")
    return len(rows)


def main():
    netd, netdctl, schema_dump, man_dir = sys.argv[1:5]
    n_netd = check_netd(netd, man_dir)
    n_cmds = check_netdctl(netdctl, man_dir)
    known = opts(run(netd, "--help")) | opts(run(netdctl, "--help"))
    n_keys = check_conf(schema_dump, man_dir, known)
    for f in failures:
        print("FAIL", f)
    print(f"{n_netd} netd options, {n_cmds} netdctl commands, {n_keys} definition keys checked; "
          f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
