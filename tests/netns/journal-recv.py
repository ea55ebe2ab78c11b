#!/usr/bin/env python3
# journald's native protocol, received for the journal test (test-journal.sh):
#   journal-recv.py SOCKET OUT   binds an AF_UNIX datagram socket at SOCKET (as journald does at
#                                /run/systemd/journal/socket) and appends each entry to OUT as one
#                                JSON line: {"FIELD": [value, ...], ...} (a field sent twice shows
#                                twice). A field is "NAME=value\n", or "NAME\n", a 64-bit
#                                little-endian length, the value and "\n" (the form for a value
#                                with a newline). An entry passed as a memfd (SCM_RIGHTS, a large
#                                one) is read from that fd. Runs until killed.
import array
import json
import os
import socket
import struct
import sys


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            i = nl + 1
        else:
            name = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 1 + 8
            value = data[start:start + size]
            if data[start + size:start + size + 1] != b"\n":
                raise ValueError("binary field %r not ended by a newline" % name)
            i = start + size + 1
        fields.setdefault(name.decode(), []).append(value.decode("utf-8", "backslashreplace"))
    return fields


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a") as f:
        while True:
            data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4))
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fd = array.array("i", cdata[:4])[0]
                    data = os.pread(fd, 1 << 24, 0)
                    os.close(fd)
            try:
                entry = parse(data)
            except (ValueError, struct.error) as e:
                entry = {"_PARSE_ERROR": [str(e)]}
            f.write(json.dumps(entry) + "\n")
            f.flush()


main()
