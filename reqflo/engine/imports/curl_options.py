"""Every curl option and whether it takes an argument: to read a command line as curl does.

Generated from `curl --help all` of curl 7.88.1, with the options curl 8.x added (`--variable`,
`--ca-native`, `--ip-tos`, `--follow` ...). An option in neither table is reported by the importer
and never takes the next word as its value, so a URL cannot vanish into an unknown option.
curl also reads `--no-FLAG` for every flag and, since 8.3, `--expand-OPTION` for every option
that takes an argument.
"""

from __future__ import annotations

# Long options (without the leading `--`) that take an argument.
LONG_WITH_ARGUMENT = frozenset(
    """
    abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type ciphers config
    connect-timeout connect-to continue-at cookie cookie-jar create-file-mode crlfile curves
    data data-ascii data-binary data-raw data-urlencode delegation dns-interface
    dns-ipv4-addr dns-ipv6-addr dns-servers doh-url dump-header ech egd-file engine
    etag-compare etag-save expect100-timeout form form-string ftp-account
    ftp-alternative-to-user ftp-method ftp-port ftp-ssl-ccc-mode happy-eyeballs-timeout-ms
    haproxy-clientip header hostpubmd5 hostpubsha256 hsts interface ip-tos json
    keepalive-cnt keepalive-time key key-type knownhosts krb libcurl limit-rate local-port
    login-options mail-auth mail-from mail-rcpt max-filesize max-redirs max-time netrc-file
    noproxy oauth2-bearer output output-dir parallel-max pass pinnedpubkey preproxy proto
    proto-default proto-redir proxy proxy-cacert proxy-capath proxy-cert proxy-cert-type
    proxy-ciphers proxy-crlfile proxy-header proxy-key proxy-key-type proxy-pass
    proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers proxy-tlsauthtype
    proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote random-file range rate
    referer request request-target resolve retry retry-delay retry-max-time sasl-authzid
    service-name sigalgs socks4 socks4a socks5 socks5-gssapi-service socks5-hostname
    speed-limit speed-time ssl-sessions stderr telnet-option tftp-blksize time-cond tls-max
    tls13-ciphers tlsauthtype tlspassword tlsuser trace trace-ascii trace-config unix-socket
    upload-file upload-flags url url-query user user-agent variable vlan-priority write-out
    """.split()  # noqa: SIM905 - a word list reads (and is checked against curl) as text
)
# Long options that are switches (no argument).
LONG_FLAGS = frozenset(
    """
    anyauth append basic ca-native cert-status compressed compressed-ssh create-dirs crlf
    digest disable disable-eprt disable-epsv disallow-username-in-url doh-cert-status
    doh-insecure dump-ca-embed fail fail-early fail-with-body false-start follow form-escape
    ftp-create-dirs ftp-pasv ftp-pret ftp-skip-pasv-ip ftp-ssl-ccc ftp-ssl-control get
    globoff haproxy-protocol head help http0.9 http1.0 http1.1 http2 http2-prior-knowledge
    http3 http3-only ignore-content-length include insecure ipv4 ipv6 junk-session-cookies
    list-only location location-trusted mail-rcpt-allowfails manual metalink mptcp negotiate
    netrc netrc-optional next no-alpn no-buffer no-clobber no-keepalive no-npn
    no-progress-meter no-sessionid ntlm ntlm-wb out-null parallel parallel-immediate
    path-as-is post301 post302 post303 progress-bar proxy-anyauth proxy-basic
    proxy-ca-native proxy-digest proxy-http2 proxy-insecure proxy-negotiate proxy-ntlm
    proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxy-tlsv1 proxytunnel raw
    remote-header-name remote-name remote-name-all remote-time remove-on-error
    retry-all-errors retry-connrefused sasl-ir show-error silent skip-existing socks5-basic
    socks5-gssapi socks5-gssapi-nec ssl ssl-allow-beast ssl-auto-client-cert ssl-no-revoke
    ssl-reqd ssl-revoke-best-effort sslv2 sslv3 styled-output suppress-connect-headers
    tcp-fastopen tcp-nodelay tftp-no-options tls-earlydata tlsv1 tlsv1.0 tlsv1.1 tlsv1.2
    tlsv1.3 tr-encoding trace-time use-ascii verbose version xattr
    """.split()  # noqa: SIM905 - a word list reads (and is checked against curl) as text
)
# Single-letter options: those that take an argument, and switches.
SHORT_WITH_ARGUMENT = frozenset("EKCbcdDFPHmoxUQreXYytzTuAw")
SHORT_FLAGS = frozenset("aqfGgIh0ik46jlLMn:NZ#pJORSs231BvV")
# The long name of each short option the importer reads (the others are reported by letter).
SHORT_NAMES = {
    "X": "request",
    "H": "header",
    "d": "data",
    "u": "user",
    "b": "cookie",
    "A": "user-agent",
    "e": "referer",
    "I": "head",
    "G": "get",
    "F": "form",
    "T": "upload-file",
    "K": "config",
    "c": "cookie-jar",
    "E": "cert",
    "D": "dump-header",
    "o": "output",
    "O": "remote-name",
    "x": "proxy",
    "U": "proxy-user",
    "L": "location",
    "k": "insecure",
    "s": "silent",
    "S": "show-error",
    "v": "verbose",
    "i": "include",
    "f": "fail",
    "g": "globoff",
    "m": "max-time",
    "w": "write-out",
    "r": "range",
    "z": "time-cond",
    "n": "netrc",
    "0": "http1.0",
    ":": "next",
    "C": "continue-at",
    "Q": "quote",
    "Y": "speed-limit",
    "y": "speed-time",
    "P": "ftp-port",
    "t": "telnet-option",
    "4": "ipv4",
    "6": "ipv6",
    "a": "append",
    "q": "disable",
    "j": "junk-session-cookies",
    "l": "list-only",
    "M": "manual",
    "N": "no-buffer",
    "Z": "parallel",
    "#": "progress-bar",
    "p": "proxytunnel",
    "J": "remote-header-name",
    "R": "remote-time",
    "2": "sslv2",
    "3": "sslv3",
    "1": "tlsv1",
    "B": "use-ascii",
    "V": "version",
    "h": "help",
}


def takes_argument(long_name: str) -> bool | None:
    """Return whether `--long_name` takes an argument, or None when curl has no such option."""
    if long_name in LONG_WITH_ARGUMENT:
        return True
    if long_name in LONG_FLAGS:
        return False
    if long_name.startswith("no-") and long_name[3:] in LONG_FLAGS:
        return False
    if long_name.startswith("expand-") and long_name[7:] in LONG_WITH_ARGUMENT:
        return True
    return None
