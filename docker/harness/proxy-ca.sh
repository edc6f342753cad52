#!/usr/bin/env bash
# Print this host's CA bundle when HTTPS from here needs it: the host trusts a certificate
# authority that the public list (what pip in the image trusts) lacks, as behind an
# HTTPS-intercepting proxy. Print nothing otherwise, or when it cannot tell (no network, no certifi).
#   build.sh runs it when CA_BUNDLE is not set, and says in one line what it found.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
python=python3
[ -x "$top/.venv/bin/python" ] && python="$top/.venv/bin/python"
"$python" - "${PROXY_CA_PROBE:-https://pypi.org/simple/pip/}" <<'PY'
import os, ssl, sys, urllib.error, urllib.request

try:
    import certifi
except ImportError:
    sys.exit(0)  # no public list to compare with


def verifies(cafile):
    """True, False (certificate refused) or None (no answer)."""
    try:
        urllib.request.urlopen(sys.argv[1], timeout=10, context=ssl.create_default_context(cafile=cafile)).close()
        return True
    except (ssl.SSLCertVerificationError, urllib.error.URLError) as e:
        return False if isinstance(getattr(e, "reason", e), ssl.SSLCertVerificationError) else None
    except OSError:
        return None


paths = ssl.get_default_verify_paths()
host = os.environ.get("SSL_CERT_FILE") or paths.cafile or paths.openssl_cafile
if host and os.path.isfile(host) and verifies(certifi.where()) is False and verifies(host):
    print(f"build: this host trusts a CA that the public list lacks (an HTTPS-intercepting proxy?): "
          f"using its bundle {host} as CA_BUNDLE", file=sys.stderr)
    print(host)
PY
