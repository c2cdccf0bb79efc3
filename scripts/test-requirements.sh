#!/bin/sh
# Run by `npm test` (npm's pretest hook): the tests use real programs from Debian — tshark judges
# our frames on the wire, openssl makes test certificates, chronyd is the NTP server the proxy's
# NTP client is tested against, chromium runs the console's browser tests, socat makes the pty
# pairs of the DNP3 serial tests, haproxy runs the shipped load-balancer configuration. On a
# fresh Debian machine, as root, this installs what is missing; otherwise it names what to
# install and stops before any test runs.
set -eu
need=""
for pair in tshark:tshark openssl:openssl chronyd:chrony chromium:chromium socat:socat haproxy:haproxy; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need="$need ${pair##*:}"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test requirements: installing$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -q --no-install-recommends $need
  exit 0
fi
echo "the tests need these Debian packages:$need" >&2
echo "install them first: sudo apt-get install -y$need" >&2
exit 1
