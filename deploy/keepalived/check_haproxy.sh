#!/bin/sh
# keepalived's health check of this balancer (vrrp_script chk_haproxy in keepalived.conf).
# Exit 0: HAProxy runs here and its frontend answers; anything else: this host should not
# hold the virtual IP. keepalived runs it every second and lowers this host's VRRP
# priority after two failures in a row, so the VIP moves to the other balancer.
#
# Install as /etc/keepalived/check_haproxy.sh, owned by root, mode 0755: with
# enable_script_security keepalived refuses a script that a non-root user could change.
# Needs curl (apt-get install curl) and pidof (Debian's sysvinit-utils, always present).
#
# FRONTEND: the address and port of HAProxy's frontend on this host (haproxy.cfg binds :80
# on every address, so loopback reaches it even on the backup, which lacks the VIP).
FRONTEND="${FRONTEND:-http://127.0.0.1:80}"

# 1. The process. Quick, and tells a stopped HAProxy apart from a slow one in the logs.
if ! pidof haproxy >/dev/null 2>&1; then
    echo "check_haproxy: no haproxy process" >&2
    exit 1
fi

# 2. The frontend answers. HAProxy answers /haproxy-health itself (monitor-uri): 200 while
# it accepts requests and at least one tocsin instance passes its /readyz check, 503 when
# none does. A process that is alive but wedged, or has lost every instance (a network
# cut between this balancer and the instances), fails here. The 1 s bound keeps the check
# well inside keepalived's timeout.
if ! curl -fsS -o /dev/null --max-time 1 "$FRONTEND/haproxy-health"; then
    echo "check_haproxy: $FRONTEND/haproxy-health does not answer 200" >&2
    exit 1
fi
exit 0
