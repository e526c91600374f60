"""Pure (sans-IO) SIP protocol core: messages, transactions, dialogs, digest.

No sockets, no asyncio, no Django, no clock reads: the caller passes bytes,
addresses and ``now`` (float seconds, any monotonic origin) and acts on the
events and datagrams it gets back.  See docs/sip.md.
"""
