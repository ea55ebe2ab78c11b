#!/usr/bin/env python3
# landlocked-read.py [--landlock] PATH: read PATH (e.g. another QEMU's /proc/PID/fd/N) and print
# "read N bytes" or the error; with --landlock, first enter a Landlock domain of its own, as netd
# puts each QEMU in one (vmm/process.c): what a QEMU taken over by its guest could reach.
import ctypes
import struct
import sys

args = sys.argv[1:]
if args[0] == "--landlock":
    args = args[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(struct.pack("Q", 1 << 11))  # handled: make block devices
    fd = libc.syscall(444, attr, 8, 0)  # landlock_create_ruleset
    if fd < 0 or libc.prctl(38, 1, 0, 0, 0) < 0 or libc.syscall(446, fd, 0) < 0:  # no_new_privs, restrict_self
        print("landlock unavailable")
        sys.exit(77)
try:
    with open(args[0], "rb") as f:
        print(f"read {len(f.read(4096))} bytes")
except OSError as e:
    print(f"error: {e.strerror}")
