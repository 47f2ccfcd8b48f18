"""POP3 and IMAP4 against the Exchange transcripts of the fingerprints file (§2, §3)."""

from __future__ import annotations

from lab.labkit import EX2007_NTLM, NEGOTIATE, Line, RunningLab, decode_challenge

POP3_BANNER = "+OK The Microsoft Exchange POP3 service is ready."
IMAP4_BANNER = "* OK The Microsoft Exchange IMAP4 service is ready."
# §3: SecureLogin before TLS (reconstructed from Pop3RequestCapa) and after TLS.
POP3_CAPA_BEFORE = ["+OK", "TOP", "UIDL", "STLS", "."]
POP3_CAPA_AFTER = ["+OK", "TOP", "UIDL", "SASL NTLM GSSAPI PLAIN", "USER", "."]
# §2, cweiske.de (2013), verbatim.
IMAP4_CAPA_BEFORE = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI LOGINDISABLED STARTTLS IDLE NAMESPACE LITERAL+"
IMAP4_CAPA_AFTER = (
    "* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN IDLE NAMESPACE LITERAL+"
)


def test_pop3_stls_transcript(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "pop3"))
    try:
        assert c.line() == POP3_BANNER
        c.send("CAPA")
        assert c.until(".") == POP3_CAPA_BEFORE
        c.send("USER someone")
        assert c.line() == "-ERR Command is not valid in this state."
        c.send("STLS")
        assert c.line() == "+OK Begin TLS negotiation."
        c.starttls()
        c.send("CAPA")
        assert c.until(".") == POP3_CAPA_AFTER
        c.send("USER someone")
        assert c.line() == "+OK"
        c.send("PASS wrong")
        assert c.line() == "-ERR Logon failure: unknown user name or bad password."
        c.send("NOOP")
        assert c.line() == "+OK"
        c.send("QUIT")
        assert c.line() == "+OK Microsoft Exchange Server 2007 POP3 server signing off."
    finally:
        c.close()


def test_pop3s_is_implicit_tls(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "pop3s"), tls=True)
    try:
        assert c.line() == POP3_BANNER
        c.send("CAPA")
        assert c.until(".") == POP3_CAPA_AFTER
    finally:
        c.close()


def test_imap_starttls_transcript(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "imap"))
    try:
        assert c.line() == IMAP4_BANNER
        c.send("1 CAPABILITY")
        assert c.until("1 ") == [IMAP4_CAPA_BEFORE, "1 OK CAPABILITY completed."]
        c.send("a LOGIN user pass")
        assert c.line() == "a BAD Command received in Invalid state."
        c.send("2 STARTTLS")
        assert c.line() == "2 OK Begin TLS negotiation now."
        c.starttls()
        c.send("3 CAPABILITY")
        assert c.until("3 ") == [IMAP4_CAPA_AFTER, "3 OK CAPABILITY completed."]
        c.send("4 AUTHENTICATE PLAIN")
        assert c.line().rstrip() == "+"
        c.send("AHVzZXIAcGFzcw==")
        assert c.line() == "4 NO AUTHENTICATE failed."
        c.send("5 NOOP")
        assert c.line() == "5 OK NOOP completed."
        c.send("6 LOGOUT")
        assert c.until("6 ") == [
            "* BYE Microsoft Exchange Server 2007 IMAP4 server signing off.",
            "6 OK LOGOUT completed.",
        ]
    finally:
        c.close()


def test_imaps_is_implicit_tls(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "imaps"), tls=True)
    try:
        assert c.line() == IMAP4_BANNER
        c.send("1 CAPABILITY")
        assert c.until("1 ")[0] == IMAP4_CAPA_AFTER
    finally:
        c.close()


def test_ntlm_challenge_over_imap_and_pop3(lab_default: RunningLab) -> None:
    c = Line(lab_default.ep("EX2007", "imap"))
    try:
        c.line()
        c.send("a1 AUTHENTICATE NTLM")
        assert c.line().rstrip() == "+"
        c.send(NEGOTIATE)
        reply = c.line()
        assert reply.startswith("+ ")
        imap_info = decode_challenge(reply[2:])
    finally:
        c.close()
    p = Line(lab_default.ep("EX2007", "pop3"))
    try:
        p.line()
        p.send("AUTH NTLM")
        assert p.line().rstrip() == "+"
        p.send(NEGOTIATE)
        pop_info = decode_challenge(p.line()[2:])
    finally:
        p.close()
    for info in (imap_info, pop_info):
        info.pop("timestamp")
        assert info == EX2007_NTLM
