#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The AstraNetmon docs' Python receiver check: the HMAC-SHA256 of the raw
# request bytes, keyed with the secret, as lowercase hex, compared with the
# X-Webhook-Signature header in constant time.
#
# usage: verify-raw.py BODY_FILE SIGNATURE SECRET
# exit 0 if the signature is valid, 1 if not, 2 on a usage error

import hashlib
import hmac
import sys


def verify(raw_request_bytes, signature, secret):
    expected = hmac.new(secret.encode('utf-8'), raw_request_bytes, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write('usage: verify-raw.py BODY_FILE SIGNATURE SECRET\n')
        return 2
    with open(argv[1], 'rb') as f:
        raw_request_bytes = f.read()
    if not verify(raw_request_bytes, argv[2], argv[3]):
        sys.stderr.write('verify-raw.py: signature does not match the raw body\n')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
