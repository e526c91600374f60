"""Telephony on the case-system side: agents' SIP credentials, trunks and DID
routes, call detail records, recordings, and the screen-pop (docs/telephony-admin.md).

The SIP engine itself is ``hotline.pbx`` (no Django); this app is what it reads
and writes through ``store.DjangoDirectory``.
"""
