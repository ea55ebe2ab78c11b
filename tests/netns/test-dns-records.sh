#!/usr/bin/env bash
# Issue 17's DNS, asked with dig from a guest to its gateway: SRV, TXT (commas, quotes, a
# backslash, '#'), CNAME, PTR, AAAA of an IPv6 --dns-host; forwarding to the host's resolver (an
# upstream test dnsmasq in another namespace), a per-domain forwarder on another port, a
# /DOMAIN/-only forwarder (answered locally, never forwarded), a /DOMAIN/# one (the usual servers), the domain forwarded unless
# --domain-local-only, --no-resolv; the [dnsmasq] escape hatch: an allowed option in effect, denied
# ones refused with nothing changed, the options shown.
. "$(dirname "$0")/lib.sh"
need dnsmasq dig

# The upstream: 10.53.0.2 is the host's resolver (resolv.conf), 10.53.0.3 port 5353 the corp
# domain's server. Each names the names it answers after itself.
add_dns_upstreams
upstream() {
	ip netns exec "$UPD" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
		--bind-interfaces --listen-address="$1" --port="$2" --no-resolv --no-hosts "${@:3}" \
		2>>"$T/upstream.log" &
}
upstream 10.53.0.2 53 --address=/only.upstream/203.0.113.2 --address=/lab.test/203.0.113.9 \
	--address=/priv.example/203.0.113.7 --address=/corp.example/203.0.113.66
upstream 10.53.0.3 5353 --address=/corp.example/203.0.113.3

mkdir -m 0755 "$T/r"
printf 'nameserver 10.53.0.2\n' >"$T/r/resolv.conf"
start_netd --resolv-conf "$T/r/resolv.conf"

TXT='v=1, a "b" c\d #e'
ctl network create lab --mode nat --subnet 10.54.0.0/24 --uplink up0 --domain lab.test \
	--dns-host 10.54.0.80,web.lab.test --dns-host fd00:54::5,six.lab.test \
	--dns-srv _ldap._tcp.lab.test,ldap.lab.test,389,1,10 --dns-srv _gone._udp.lab.test \
	--dns-txt "info.lab.test,$TXT" --dns-cname www.lab.test,web.lab.test \
	--dns-ptr 99.0.54.10.in-addr.arpa,printer.lab.test \
	--dns-forwarder /corp.example/10.53.0.3#5353 --dns-forwarder /priv.example/ \
	--dns-forwarder /usual.corp.example/# \
	--dnsmasq-option address=/blocked.example/192.0.2.99 >/dev/null
add_guest g1 52:54:00:54:00:01 nd-lab
gx g1 ip addr add 10.54.0.50/24 dev eth0

# q ARGS...: dig's short answer from the gateway ("" when none, also when dig fails).
q() { { gx g1 dig +short +time=1 +tries=1 @10.54.0.1 "$@" 2>/dev/null || true; } | tr '\n' ' ' | sed 's/ $//'; }
# status NAME: the answer's status (NOERROR, NXDOMAIN, REFUSED...).
status() { { gx g1 dig +time=1 +tries=1 @10.54.0.1 "$@" 2>/dev/null || true; } | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# expect WANT WHAT ARGS...: within 5 s (a restarted dnsmasq takes a moment).
expect() {
	local want=$1 what=$2 got=
	shift 2
	for _ in $(seq 1 50); do
		got=$(q "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "$what: '$got', expected '$want'"
}
expect_status() {
	local want=$1 what=$2 got=
	shift 2
	for _ in $(seq 1 50); do
		got=$(status "$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "$what: status '$got', expected '$want'"
}

expect "1 10 389 ldap.lab.test." "SRV" -t SRV _ldap._tcp.lab.test
expect "0 0 1 ." "SRV of a service not offered (dnsmasq: target '.')" -t SRV _gone._udp.lab.test
expect '"v=1, a \"b\" c\\d #e"' "TXT" -t TXT info.lab.test
expect "web.lab.test. 10.54.0.80" "CNAME" www.lab.test
expect "printer.lab.test." "PTR" -x 10.54.0.99
expect "fd00:54::5" "AAAA of an IPv6 --dns-host" -t AAAA six.lab.test
ok "SRV, TXT (commas, quotes, a backslash, '#' as typed), CNAME, PTR, AAAA from the gateway"

expect 203.0.113.2 "a name forwarded to the host's resolver" only.upstream
expect 203.0.113.3 "a per-domain forwarder on port 5353" a.corp.example
expect_status NXDOMAIN "a /DOMAIN/-only forwarder" x.priv.example
expect 203.0.113.66 "a /DOMAIN/# forwarder (the host's resolver, not corp.example's server)" a.usual.corp.example
expect 203.0.113.9 "an unknown name under the domain (not local-only: forwarded)" unknown.lab.test
ok "forwarded: the host's resolver, a per-domain forwarder and port, /usual.corp.example/# to the host's resolver; /priv.example/ answered locally only"

expect 192.0.2.99 "the escape hatch's address=" blocked.example
assert_eq "$(ctl --json network show lab | jq -c .dnsmasq_options)" '["address=/blocked.example/192.0.2.99"]' "show's dnsmasq_options"
ctl network show lab | has -F "dnsmasq +:  address=/blocked.example/192.0.2.99" || fail "network show: no dnsmasq option line"
ok "an allowed [dnsmasq] option is in effect and shown"

# --domain-local-only and --no-resolv, by hand in the definition and a reload.
pid=$(dnsmasq_pid lab)
sed -i 's/^domain = lab.test$/domain = lab.test\nlocal-only = yes/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
expect_status NXDOMAIN "an unknown name under a local-only domain" unknown.lab.test
expect "web.lab.test. 10.54.0.80" "a known name under a local-only domain" www.lab.test
[ "$(dnsmasq_pid lab)" != "$pid" ] || fail "dnsmasq was not restarted for its new config"
ok "--domain-local-only: the domain's unknown names are NXDOMAIN, never forwarded"

sed -i 's/^local-only = yes$/local-only = yes\nno-resolv = yes/' "$T/etc/networks/lab.conf"
ctl reload >/dev/null
expect_status REFUSED "a name for the host's resolver with --no-resolv" only.upstream
expect 203.0.113.3 "the per-domain forwarder with --no-resolv" a.corp.example
ok "--no-resolv: the host's resolvers are not asked, the forwarders are"

# Denied options and bad values: refused, nothing changed (the unit tests, tests/unit/test-dns.c,
# have every message; these are the ones that would reach dnsmasq, through each path).
C="network create x --mode nat --subnet 10.1.0.0/24"
cases=(
	"1|dnsmasq option 'conf-file=/etc/shadow' is not an option netd passes on|$C --dnsmasq-option conf-file=/etc/shadow"
	"1|dnsmasq option 'nftset=/x/4#inet#netd#s' is not an option netd passes on|$C --dnsmasq-option nftset=/x/4#inet#netd#s"
	"1|dnsmasq option 'address=/x/1.2.3.4\\nconf-file=/etc/shadow' may contain only printable ASCII|$C --dnsmasq-option \$'address=/x/1.2.3.4\\nconf-file=/etc/shadow'"
	"1|dnsmasq option 'txt-record=a,\"b\"' must not contain '\"'|$C --dnsmasq-option 'txt-record=a,\"b\"'"
	"1|invalid text in TXT record|$C --dns-txt \$'n,a\\nport=0'"
	"1|invalid CNAME 'www,3600': dnsmasq reads a target of digits as a TTL|$C --dns-cname www,3600"
	"1|DNS forwarder 10.1.0.1 is the network's own DNS server (a loop)|$C --dns-forwarder 10.1.0.1"
	"1|--register-dns needs DNS, --domain and --domain-local-only|$C --domain lab --register-dns"
	"1|--register-dns needs a domain of two labels or more, not 'com'|$C --domain com --domain-local-only --register-dns"
	"1|--register-dns cannot register '10.in-addr.arpa'|$C --domain 10.in-addr.arpa --domain-local-only --register-dns"
	"1|invalid DNS forwarder '127.0.0.1#6379': is a loopback address on a port other than 53|$C --dns-forwarder 127.0.0.1#6379"
	"1|invalid DNS forwarder '::#6380': is the unspecified address|$C --dns-forwarder ::#6380"
	"1|invalid DNS forwarder '::ffff:127.0.0.1#6379': is a loopback address|$C --dns-forwarder ::ffff:127.0.0.1#6379"
	"1|invalid domain 'a\\x1b[31m' in forwarder '/a\\x1b[31m/1.2.3.4'|$C --dns-forwarder \$'/a\\e[31m/1.2.3.4'"
	"1|DNS forwarder '/lab.test/192.0.2.1' sends names of the domain lab.test upstream|$C --domain lab.test --domain-local-only --dns-forwarder /lab.test/192.0.2.1"
	"1|CNAME 'a.x,b.x' is part of a loop of aliases|$C --dns-cname a.x,b.x --dns-cname b.x,a.x"
)
bad_cli_cases cases
raw_cases=(
	'{"method": "network.create", "params": {"name": "x", "mode": "nat", "subnet": "10.1.0.0/24", "dnsmasq_options": ["pid-file=/etc/passwd"]}}|is not an option netd passes on'
	'{"method": "network.create", "params": {"name": "x", "mode": "nat", "subnet": "10.1.0.0/24", "dns_txt": ["a,b\u0000c"]}}|contains a NUL character'
)
bad_raw_cases raw_cases

# --register-dns is root's: an operator (group netd) would have the host's own lookups answered by
# a dnsmasq whose data it and the guests control.
if getent group netd >/dev/null; then
	chmod 0711 "$T"
	chmod 0666 "$SOCK"
	rc=0
	setpriv --reuid=65534 --regid=65534 --groups="$(getent group netd | cut -d: -f3)" "$NETDCTL" --socket "$SOCK" \
		network create x --mode nat --subnet 10.1.0.0/24 --domain x.test --domain-local-only --register-dns \
		>"$T/out" 2>"$T/err" || rc=$?
	chmod 0660 "$SOCK"
	assert_eq "$rc" 1 "exit code of an operator's --register-dns"
	grep -qF -- "--register-dns: only root may have the host resolve a network's domain through it (uid 65534 is not root)" \
		"$T/err" || fail "an operator's --register-dns: $(cat "$T/err")"
	bad_unchanged "an operator's --register-dns"
	ok "an operator's --register-dns is refused: $(cat "$T/err")"
fi

# A hand-written file with a denied option: the reload refuses it, the running network keeps its.
pid=$(dnsmasq_pid lab)
cp "$T/etc/networks/lab.conf" "$T/lab.conf.good"
printf 'option = conf-file=/etc/shadow\n' >>"$T/etc/networks/lab.conf"
ctl reload >"$T/reload.out" 2>&1 || true
grep -qF "is not an option netd passes on" "$T/reload.out" "$T/netd.log" || fail "the reload did not say why: $(cat "$T/reload.out")"
assert_eq "$(dnsmasq_pid lab)" "$pid" "dnsmasq after a refused reload"
grep -q conf-file "$T/run/dnsmasq/lab.conf" && fail "a denied option reached dnsmasq's config"
expect 192.0.2.99 "the escape hatch after a refused reload" blocked.example
ok "a hand-written denied option is refused at reload; dnsmasq keeps its config"
