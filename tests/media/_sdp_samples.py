"""Realistic SDP offers as sent by common SIP endpoints and trunks.

Reconstructed from the formats these tools emit; line order follows each
tool's own output so that parse -> serialize must be byte-identical.
"""

from __future__ import annotations


def crlf(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


# baresip 3.x softphone: opus first, then G.722, G.711, telephone-event.
BARESIP = crlf(
    "v=0",
    "o=- 3920438186 3920438186 IN IP4 192.168.1.23",
    "s=-",
    "c=IN IP4 192.168.1.23",
    "t=0 0",
    "a=tool:baresip 3.10.1",
    "m=audio 10152 RTP/AVP 96 9 0 8 101",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    "a=label:1",
    "a=ssrc:1418474117 cname:3f9c2b1e-5c1d-4b62-9a1e-2c0d8f7a6b51",
    "a=rtcp-rsize",
    "a=ptime:20",
)

# SIPp built-in "uac_pcap" scenario (PCMA + telephone-event), keywords substituted.
SIPP_UAC_PCAP = crlf(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 10.0.0.5",
    "s=-",
    "c=IN IP4 10.0.0.5",
    "t=0 0",
    "m=audio 6000 RTP/AVP 8 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-11,16",
)

# SIPp built-in "uac" scenario (PCMU only).
SIPP_UAC = crlf(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

# Linphone desktop 5.x: static PTs without rtpmap, telephone-event at three
# clock rates, RTCP-XR, a video stream we must reject.
LINPHONE = crlf(
    "v=0",
    "o=alice 2736 1524 IN IP4 192.168.0.104",
    "s=Talk",
    "c=IN IP4 192.168.0.104",
    "t=0 0",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "a=record:off",
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=fmtp:97 vbr=on",
    "a=rtpmap:98 speex/8000",
    "a=fmtp:98 vbr=on",
    "a=fmtp:18 annexb=yes",
    "a=rtpmap:101 telephone-event/48000",
    "a=rtpmap:99 telephone-event/16000",
    "a=rtpmap:100 telephone-event/8000",
    "a=rtcp-fb:* trr-int 1000",
    "a=rtcp-fb:* ccm tmmbr",
    "m=video 9078 RTP/AVP 96 97",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:97 H264/90000",
    "a=fmtp:97 profile-level-id=42801F",
    "a=rtcp-fb:* trr-int 1000",
    "a=rtcp-fb:* ccm tmmbr",
    "a=rtcp-fb:96 nack pli",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:97 nack pli",
    "a=rtcp-fb:97 ccm fir",
)

# Carrier trunk behind Asterisk (chan_pjsip): PCMA preferred.
ASTERISK_TRUNK = crlf(
    "v=0",
    "o=- 1713881234 1713881236 IN IP4 203.0.113.10",
    "s=Asterisk",
    "c=IN IP4 203.0.113.10",
    "t=0 0",
    "m=audio 17384 RTP/AVP 8 0 101",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=ptime:20",
    "a=maxptime:150",
    "a=sendrecv",
)

# Carrier trunk behind FreeSWITCH: comfort noise, explicit RTCP port.
FREESWITCH_TRUNK = crlf(
    "v=0",
    "o=FreeSWITCH 1713870000 1713870001 IN IP4 198.51.100.20",
    "s=FreeSWITCH",
    "c=IN IP4 198.51.100.20",
    "t=0 0",
    "m=audio 24680 RTP/AVP 0 8 101 13",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
    "a=rtpmap:13 CN/8000",
    "a=ptime:20",
    "a=sendrecv",
    "a=rtcp:24681 IN IP4 198.51.100.20",
)

# The same Asterisk trunk putting the call on hold (re-INVITE, version + 1).
ASTERISK_HOLD = ASTERISK_TRUNK.replace("1713881236", "1713881237").replace("a=sendrecv", "a=sendonly")

# RFC 2543 style hold as still sent by some carrier SBCs.
OLD_STYLE_HOLD = crlf(
    "v=0",
    "o=SBC 4242 4243 IN IP4 192.0.2.50",
    "s=SBC",
    "c=IN IP4 0.0.0.0",
    "t=0 0",
    "m=audio 31000 RTP/AVP 0 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
)

ALL_OFFERS = {
    "baresip": BARESIP,
    "sipp_uac_pcap": SIPP_UAC_PCAP,
    "sipp_uac": SIPP_UAC,
    "linphone": LINPHONE,
    "asterisk_trunk": ASTERISK_TRUNK,
    "freeswitch_trunk": FREESWITCH_TRUNK,
    "asterisk_hold": ASTERISK_HOLD,
    "old_style_hold": OLD_STYLE_HOLD,
}
