"""The asyncio telephony engine of hotline: the only package that opens sockets.

This step holds the media side: RTP port allocation (:mod:`.ports`), one
RTP/RTCP endpoint per call leg (:mod:`.rtp_endpoint`), bridges that relay,
transcode, hold, mix and record (:mod:`.bridge`, :mod:`.recorder`) and the
engine that owns them and enforces limits (:mod:`.engine`).  It never touches
the Django ORM; see docs/pbx.md.
"""
