#!/usr/bin/env bash
# Generate an audit log with GROUPS distinct event groups for one profile (examplehttpd of
# examples/webserver), as an attacker who controls the paths a server is asked for would:
# every group is a file path the profile lacks, seen 1 to 3 times (ALLOWED, complain mode),
# with a SYSCALL record after some AVCs, and a few network and capability groups.
#
# Usage: benches/groups/gen.sh GROUPS > FILE
set -euo pipefail
groups=${1:?usage: gen.sh GROUPS}
awk -v n="$groups" 'BEGIN {
    t = 1795082401; serial = 5000
    split("open getattr file_perm file_mmap", ops, " ")
    split("r r w rw", masks, " "); split("net_bind_service net_broadcast net_admin", caps, " ")
    for (g = 0; g < n; g++) {
        reps = 1 + (g * 7) % 3
        for (k = 0; k < reps; k++) {
            serial++
            ts = sprintf("%d.%03d:%d", t + int(serial / 50), serial % 1000, serial)
            if (g % 97 == 0) {
                printf "type=AVC msg=audit(%s): apparmor=\"ALLOWED\" operation=\"capable\" class=\"cap\" profile=\"examplehttpd\" pid=%d comm=\"examplehttpd\" capability=%d capname=\"%s\"\n", ts, 2231 + k, 10 + g % 3, caps[1 + g % 3]
            } else {
                op = ops[1 + g % 4]; m = masks[1 + g % 4]
                printf "type=AVC msg=audit(%s): apparmor=\"ALLOWED\" operation=\"%s\" class=\"file\" profile=\"examplehttpd\" name=\"/srv/www/site%d/d%d/f%d.html\" pid=%d comm=\"examplehttpd\" requested_mask=\"%s\" denied_mask=\"%s\" fsuid=33 ouid=33\n", ts, op, g % 13, g % 211, g, 2231 + k, m, m
            }
            if (serial % 5 == 0) {
                printf "type=SYSCALL msg=audit(%s): arch=c000003e syscall=257 success=yes exit=5 a0=ffffff9c a1=55d0 a2=0 a3=0 items=1 ppid=2210 pid=%d auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm=\"examplehttpd\" exe=\"/usr/sbin/examplehttpd\" subj=examplehttpd (complain) key=(null)\n", ts, 2231 + k
            }
        }
    }
}'
