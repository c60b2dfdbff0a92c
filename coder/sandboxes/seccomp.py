"""The sandbox's seccomp profile: no socket families the tools do not need (AF_VSOCK reaches the VM host past the
network namespace), no namespaces, no kernel surfaces a test run never uses, and no 32-bit system call entry.

Docker's default profile is compiled into the engine and can only be replaced, not extended, so this profile is
written out in full. It allows by default and denies by rule; it is combined with what already holds in the container
(no capabilities, no-new-privileges, a non-root command user), which makes most of the calls it names fail anyway: the
rules make that explicit and independent of the kernel's capability checks.
"""

from __future__ import annotations

import errno
import json
import platform
from typing import Any

# Families a test run needs: local sockets, loopback TCP/UDP over v4 and v6, and netlink (getaddrinfo, `ip`).
ALLOWED_FAMILIES = {1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK"}
FAMILY_LIMIT = 64  # the kernel knows fewer than this (AF_MAX is 46 in Linux 6.x); beyond it socket() fails anyway

DENIED_SYSCALLS = (
    # namespaces, mounts, a new root
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount",
    "fspick", "move_mount", "open_tree", "mount_setattr",
    # kernel attack surface a test run has no use for
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl",
    "add_key", "request_key", "kcmp", "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
    # the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
    "get_kernel_syms", "query_module", "quotactl", "quotactl_fd", "nfsservctl", "uselib", "acct", "swapon", "swapoff",
    "reboot", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "vhangup",
    "_sysctl", "mbind", "set_mempolicy", "move_pages", "migrate_pages",
)

# clone() flags that make a namespace (clone3 passes its flags in memory, out of seccomp's sight: it is refused with
# ENOSYS so that libc falls back to clone(), whose flags are checked).
NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000, "CLONE_NEWNET": 0x40000000,
}

_ARCHITECTURES = {"x86_64": ["SCMP_ARCH_X86_64"], "aarch64": ["SCMP_ARCH_AARCH64"], "arm64": ["SCMP_ARCH_AARCH64"]}
_LOW_32_BITS = 0xFFFFFFFF


def _deny(names: list[str], err: int, args: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": err}
    if args:
        rule["args"] = args
    return rule


def _masked_equal(index: int, mask: int, value: int) -> dict[str, Any]:
    """(argument & mask) == value; the mask also keeps the kernel's int truncation from hiding a value."""
    return {"index": index, "value": mask, "valueTwo": value, "op": "SCMP_CMP_MASKED_EQ"}


def profile(machine: str | None = None) -> dict[str, Any]:
    """The profile as a dict, for the engine's native architecture only (32-bit entry points are not allowed)."""
    arch = _ARCHITECTURES.get((machine or platform.machine()).lower())
    rules = [_deny(list(DENIED_SYSCALLS), errno.EPERM), _deny(["clone3"], errno.ENOSYS)]
    rules += [_deny(["socket"], errno.EAFNOSUPPORT, [_masked_equal(0, _LOW_32_BITS, family)])
              for family in range(FAMILY_LIMIT) if family not in ALLOWED_FAMILIES]
    rules += [_deny(["clone"], errno.EPERM, [_masked_equal(0, flag, flag)]) for flag in NAMESPACE_FLAGS.values()]
    result: dict[str, Any] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}
    if arch:
        result["architectures"] = arch
    return result


def security_opt() -> str:
    """The `seccomp=...` entry for the container's security options (the engine takes the profile's JSON itself)."""
    return "seccomp=" + json.dumps(profile(), separators=(",", ":"))
